import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { parse as parseYaml } from 'yaml';

import { ConfigError } from '../../../lib/errors';
import { BundleError, type BundleJob, loadBundle } from '../../../local/databricks/bundle';
import { lakeRootVariables, localRunSettings } from '../../../local/databricks/settings';

const PROJECT_BUNDLE = path.resolve(__dirname, '..', '..', '..', 'databricks');

function parameterDefaults(job: BundleJob | undefined): Record<string, string> {
  return Object.fromEntries((job?.parameters ?? []).map((p) => [p.name, p.default]));
}

/** The named parameters a job's (only) wheel task is deployed with, after variable resolution. */
function taskParameters(job: BundleJob | undefined): Record<string, string> {
  const kind = job?.tasks[0]?.kind;
  return kind?.type === 'python_wheel_task' ? kind.namedParameters : {};
}

describe('lakeRootVariables', () => {
  it('when given a lake root, then each container root is a file:// URL of its folder under it', () => {
    expect(lakeRootVariables('/data/lake/')).toEqual({
      staging_root: 'file:///data/lake/staging/',
      silver_root: 'file:///data/lake/silver/',
      gold_root: 'file:///data/lake/gold/',
      audit_root: 'file:///data/lake/audit/',
      bronze_root: 'file:///data/lake/bronze/',
    });
  });

  it('when the root holds a character a file:// URL would have to escape, then it is refused with a ConfigError', () => {
    expect(() => lakeRootVariables('/data/my lake')).toThrow(ConfigError);
    expect(() => lakeRootVariables('/data/50%')).toThrow(/LAKE_ROOT/);
  });
});

describe('localRunSettings', () => {
  it('when LAKE_ROOT is set, then it is the lake root, resolved to an absolute path', () => {
    expect(localRunSettings({ LAKE_ROOT: 'somewhere/lake', LAKEWATT_HOME: '/ignored' }).lakeRoot).toBe(
      path.resolve('somewhere/lake'),
    );
  });

  it('when only LAKEWATT_HOME is set, then the lake is its lake folder, as lib/config.ts has it', () => {
    expect(localRunSettings({ LAKEWATT_HOME: '/srv/lakewatt' }).lakeRoot).toBe('/srv/lakewatt/lake');
    expect(localRunSettings({}).lakeRoot).toBe(path.resolve('.lakewatt', 'lake'));
  });

  it('when PII_HASH_KEY is set, then it is the key; a key shorter than 16 characters is a ConfigError that does not echo it', () => {
    expect(localRunSettings({ PII_HASH_KEY: 'a-key-of-enough-length' }).piiHashKey).toBe(
      'a-key-of-enough-length',
    );
    expect(localRunSettings({}).piiHashKey).toBeUndefined();
    expect(() => localRunSettings({ PII_HASH_KEY: 'short-secret' })).toThrow(ConfigError);
    expect(() => localRunSettings({ PII_HASH_KEY: 'short-secret' })).not.toThrow(/short-secret/);
  });
});

describe('loadBundle variable precedence', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-bundle-vars-'));
    await fs.writeFile(
      path.join(dir, 'databricks.yml'),
      `bundle: {name: b}
variables: {a: {default: d}, b: {default: d}, c: {default: d}}
targets: {local: {variables: {a: target, b: target, c: target}}}
resources:
  jobs:
    one:
      name: one
      parameters: [{name: a, default: '\${var.a}'}, {name: b, default: '\${var.b}'}, {name: c, default: '\${var.c}'}]
      tasks: [{task_key: t, spark_python_task: {python_file: t.py}}]
`,
    );
  });
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  it('when values are provided, exported and overridden, then target < provided < BUNDLE_VAR_* < overrides', () => {
    const bundle = loadBundle(dir, {
      provided: { a: 'provided', b: 'provided', c: 'provided', undeclared: 'ignored' },
      env: { BUNDLE_VAR_b: 'env', BUNDLE_VAR_c: 'env' },
      overrides: { c: 'override' },
    });
    expect(parameterDefaults(bundle.jobs[0])).toEqual({ a: 'provided', b: 'env', c: 'override' });
    expect(bundle.variables).not.toHaveProperty('undeclared');
  });

  it('when an override names an undeclared variable, then loading fails naming it', () => {
    expect(() => loadBundle(dir, { env: {}, overrides: { typo: 'x' } })).toThrow(BundleError);
    expect(() => loadBundle(dir, { env: {}, overrides: { typo: 'x' } })).toThrow(
      /override typo is not declared/,
    );
  });
});

describe('the project bundle, target local', () => {
  const provided = lakeRootVariables('/tmp/lakewatt-test-lake');

  it('when the emulator provides the lake roots, then the tasks of both jobs are deployed with them and run the wheel entry points', () => {
    const bundle = loadBundle(PROJECT_BUNDLE, { target: 'local', env: {}, provided });
    const silver = bundle.jobs.find((job) => job.name === 'lakewatt-silver');
    const gold = bundle.jobs.find((job) => job.name === 'lakewatt-gold');
    expect(taskParameters(silver)).toMatchObject({
      catalog: '',
      staging_root: 'file:///tmp/lakewatt-test-lake/staging/',
      silver_root: 'file:///tmp/lakewatt-test-lake/silver/',
      gold_root: 'file:///tmp/lakewatt-test-lake/gold/',
      audit_root: 'file:///tmp/lakewatt-test-lake/audit/',
      bronze_root: 'file:///tmp/lakewatt-test-lake/bronze/',
      pii_hash_key: '',
      run_id: '{{job.run_id}}',
    });
    expect(taskParameters(gold)).toMatchObject({ silver_root: provided.silver_root });
    expect(parameterDefaults(gold)).toMatchObject({ default_timezone: 'Europe/London' });
    expect(silver?.tasks[0]?.kind).toMatchObject({
      type: 'python_wheel_task',
      packageName: 'lakewatt',
      entryPoint: 'lakewatt-silver',
    });
    expect(gold?.tasks[0]?.kind).toMatchObject({ type: 'python_wheel_task', entryPoint: 'lakewatt-gold' });
    // Local runs one at a time, as the local target says.
    expect([silver?.maxConcurrentRuns, gold?.maxConcurrentRuns]).toEqual([1, 1]);
  });

  it('when a run is started, then lake roots, catalog and secret names are not job parameters it could override', () => {
    const bundle = loadBundle(PROJECT_BUNDLE, { target: 'local', env: {}, provided });
    const fixed = ['catalog', 'staging_root', 'silver_root', 'gold_root', 'audit_root', 'bronze_root'];
    const secrets = ['pii_secret_scope', 'pii_secret_key', 'pii_hash_key'];

    for (const job of bundle.jobs) {
      const declared = job.parameters.map((p) => p.name);
      expect([job.name, declared.filter((name) => [...fixed, ...secrets].includes(name))]).toEqual([
        job.name,
        [],
      ]);
      const fromRun = Object.entries(taskParameters(job)).filter(
        ([name, value]) => [...fixed, ...secrets].includes(name) && value.includes('{{'),
      );
      expect([job.name, fromRun]).toEqual([job.name, []]);
    }
  });

  it('when nothing provides the lake roots, then loading fails naming the missing variable instead of guessing a folder', () => {
    expect(() => loadBundle(PROJECT_BUNDLE, { target: 'local', env: {} })).toThrow(
      /staging_root\} has no value in target 'local'/,
    );
  });

  it('when BUNDLE_VAR_<root> is exported, then it still wins over the provided lake root for that one variable', () => {
    const bundle = loadBundle(PROJECT_BUNDLE, {
      target: 'local',
      env: { BUNDLE_VAR_gold_root: 'file:///elsewhere/gold/' },
      provided,
    });
    const gold = bundle.jobs.find((job) => job.name === 'lakewatt-gold');
    expect(taskParameters(gold)).toMatchObject({
      gold_root: 'file:///elsewhere/gold/',
      silver_root: provided.silver_root,
    });
  });
});

describe('the project bundle, production targets', () => {
  const doc = parseYaml(readFileSync(path.join(PROJECT_BUNDLE, 'databricks.yml'), 'utf8')) as {
    targets: Record<string, { mode?: string; run_as?: Record<string, unknown> }>;
    variables: Record<string, unknown>;
  };

  it.each(['prod', 'prod_classic'])(
    'when target %s is deployed, then the jobs run as the dedicated service principal, never a user',
    (target) => {
      expect(doc.targets[target]?.run_as).toEqual({
        service_principal_name: '${var.jobs_service_principal}',
      });
      expect(doc.variables).toHaveProperty('jobs_service_principal');
    },
  );

  it('when the deploy hook deploys the bundle, then it passes the jobs identity as jobs_service_principal', () => {
    const hook = readFileSync(path.join(PROJECT_BUNDLE, '..', 'scripts', 'azd-databricks.sh'), 'utf8');

    expect(hook).toContain('"jobs_service_principal=$jobs_app_id"');
    expect(hook).toContain('jobs_app_id=$AZURE_DATABRICKS_JOBS_IDENTITY_CLIENT_ID');
  });
});
