import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BundleError, loadBundle } from '../../../local/databricks/bundle';

const FIXTURE = path.resolve(__dirname, '..', '..', 'fixtures', 'bundle');

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-bundle-'));
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

async function write(files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), text);
  }
}

const JOB = `resources:
  jobs:
    one:
      name: job-one
      tasks:
        - task_key: t
          spark_python_task:
            python_file: ../src/t.py
            parameters: ['\${var.v}', '{{job.parameters.p}}']
`;

describe('loadBundle', () => {
  it('when the fixture bundle loads with the local target, then variables come from that target', () => {
    const bundle = loadBundle(FIXTURE);
    const delta = bundle.jobs.find((job) => job.name === 'fixture-delta');
    const write = delta?.tasks[0]?.kind;
    expect(bundle.target).toBe('local');
    expect(write?.type === 'spark_python_task' && write.parameters).toContain('hello-local');
    expect(write?.type === 'spark_python_task' && write.pythonFile).toBe(
      path.join(FIXTURE, 'src', 'write_delta.py'),
    );
  });

  it('when another target is selected, then its variable values are used', () => {
    const kind = loadBundle(FIXTURE, { target: 'dev' }).jobs.find((j) => j.name === 'fixture-delta')?.tasks[0]
      ?.kind;
    expect(kind?.type === 'spark_python_task' && kind.parameters).toContain('hello-dev');
  });

  it('when BUNDLE_VAR_<name> is set, then it overrides the target value', async () => {
    await write({
      'databricks.yml':
        'bundle: {name: b}\ninclude: [resources/*.yml]\nvariables: {v: {default: d}}\ntargets: {local: {variables: {v: t}}}\n',
      'resources/one.yml': JOB,
    });
    const kind = loadBundle(dir, { env: { BUNDLE_VAR_v: 'from-env' } }).jobs[0]?.tasks[0]?.kind;
    expect(kind?.type === 'spark_python_task' && kind.parameters).toEqual([
      'from-env',
      '{{job.parameters.p}}',
    ]);
  });

  it('when a python_file is relative, then it is resolved against the file that declares it', async () => {
    await write({
      'databricks.yml': 'bundle: {name: b}\ninclude: [resources/*.yml]\nvariables: {v: {default: d}}\n',
      'resources/one.yml': JOB,
    });
    const kind = loadBundle(dir, { env: {} }).jobs[0]?.tasks[0]?.kind;
    expect(kind?.type === 'spark_python_task' && kind.pythonFile).toBe(path.join(dir, 'src', 't.py'));
  });

  it('when a variable has no value in the target, then the error names it and how to set it', async () => {
    await write({
      'databricks.yml': 'bundle: {name: b}\ninclude: [resources/*.yml]\nvariables: {v: {description: x}}\n',
      'resources/one.yml': JOB,
    });
    expect(() => loadBundle(dir, { env: {} })).toThrow(
      /\$\{var\.v\} has no value in target 'local'.*BUNDLE_VAR_v/,
    );
  });

  it('when a task uses a reference with no local meaning, then loading fails naming the reference', async () => {
    await write({
      'databricks.yml': `bundle: {name: b}\nresources:\n  jobs:\n    j:\n      tasks:\n        - task_key: t\n          spark_python_task: {python_file: x.py, parameters: ['\${workspace.host}']}\n`,
    });
    expect(() => loadBundle(dir, { env: {} })).toThrow(BundleError);
    expect(() => loadBundle(dir, { env: {} })).toThrow(
      /\$\{workspace\.host\} cannot be resolved by the local emulator/,
    );
  });

  it('when permissions use a reference with no local meaning, then the job still loads', async () => {
    await write({
      'databricks.yml': `bundle: {name: b}\nresources:\n  jobs:\n    j:\n      permissions: [{service_principal_name: '\${var.sp}', level: CAN_MANAGE_RUN}]\n      tasks:\n        - task_key: t\n          spark_python_task: {python_file: x.py}\n`,
    });
    expect(loadBundle(dir, { env: {} }).jobs).toHaveLength(1);
  });

  it('when a target overrides a task, then the override is merged by task_key', async () => {
    await write({
      'databricks.yml': `bundle: {name: b}\nresources:\n  jobs:\n    j:\n      tasks:\n        - task_key: t\n          timeout_seconds: 10\n          spark_python_task: {python_file: x.py}\ntargets:\n  local:\n    resources:\n      jobs:\n        j:\n          tasks:\n            - task_key: t\n              timeout_seconds: 99\n`,
    });
    const task = loadBundle(dir, { env: {} }).jobs[0]?.tasks[0];
    expect(task?.timeoutSeconds).toBe(99);
    expect(task?.kind.type).toBe('spark_python_task');
  });

  it('when tasks depend on each other in a cycle, then loading fails showing the cycle', async () => {
    await write({
      'databricks.yml': `bundle: {name: b}\nresources:\n  jobs:\n    j:\n      tasks:\n        - {task_key: a, depends_on: [{task_key: b}], spark_python_task: {python_file: x.py}}\n        - {task_key: b, depends_on: [{task_key: a}], spark_python_task: {python_file: x.py}}\n`,
    });
    expect(() => loadBundle(dir, { env: {} })).toThrow(/cycle: a -> b -> a/);
  });

  it('when a python_wheel_task has named parameters, then they are kept as a map', async () => {
    await write({
      'databricks.yml': `bundle: {name: b}\nresources:\n  jobs:\n    j:\n      tasks:\n        - task_key: w\n          python_wheel_task: {package_name: lakewatt, entry_point: lakewatt-silver, named_parameters: {dataset: meter_readings}}\n`,
    });
    expect(loadBundle(dir, { env: {} }).jobs[0]?.tasks[0]?.kind).toEqual({
      type: 'python_wheel_task',
      packageName: 'lakewatt',
      entryPoint: 'lakewatt-silver',
      parameters: [],
      namedParameters: { dataset: 'meter_readings' },
    });
  });

  it('when the folder has no databricks.yml, then the error says so', () => {
    expect(() => loadBundle(dir)).toThrow(/no databricks.yml in/);
  });
});
