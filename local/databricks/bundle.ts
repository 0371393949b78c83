import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { parse as parseYaml } from 'yaml';

import { LakewattError } from '../../lib/errors';

/** The bundle cannot be loaded for the emulator: a file, a reference or a job definition is wrong. */
export class BundleError extends LakewattError {
  constructor(message: string) {
    super('BUNDLE_INVALID', message);
  }
}

export type TaskKind =
  | { type: 'spark_python_task'; pythonFile: string; parameters: string[] }
  | {
      type: 'python_wheel_task';
      packageName: string;
      entryPoint: string;
      parameters: string[];
      namedParameters: Record<string, string>;
    }
  | { type: 'unsupported'; taskType: string };

export interface BundleTask {
  taskKey: string;
  dependsOn: Array<{ taskKey: string; outcome?: string }>;
  /** ALL_SUCCESS (default), ALL_DONE, AT_LEAST_ONE_SUCCESS, NONE_FAILED, ALL_FAILED, AT_LEAST_ONE_FAILED. */
  runIf: string;
  timeoutSeconds: number | undefined;
  maxRetries: number;
  minRetryIntervalMs: number;
  retryOnTimeout: boolean;
  kind: TaskKind;
}

export interface BundleJob {
  /** The resource key under `resources.jobs`. */
  key: string;
  name: string;
  parameters: Array<{ name: string; default: string }>;
  maxConcurrentRuns: number;
  queueEnabled: boolean;
  timeoutSeconds: number | undefined;
  tasks: BundleTask[];
  /** The job's settings after variable resolution, as `jobs/get` shows them. */
  settings: Record<string, unknown>;
}

export interface Bundle {
  root: string;
  name: string;
  target: string;
  variables: Record<string, unknown>;
  jobs: BundleJob[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readYaml(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new BundleError(`cannot read bundle file ${file}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (thrown) {
    throw new BundleError(`${file} is not valid YAML: ${(thrown as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (!isObject(value)) throw new BundleError(`${file} must hold a mapping at the top level`);
  return value;
}

/** A glob (`*`, `?`, `**`) as a regular expression over `/`-separated relative paths. */
function globRegex(pattern: string): RegExp {
  let source = '';
  const text = pattern.replace(/^\.\//, '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '*' && text[i + 1] === '*') {
      source += text[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += text[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Files matching a glob relative to `root`, in a stable order. */
function glob(root: string, pattern: string): string[] {
  const regex = globRegex(pattern);
  const found: string[] = [];
  const walk = (dir: string, rel: string, depth: number): void => {
    if (depth > 8) return;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const full = path.join(dir, name);
      const relative = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, relative, depth + 1);
      else if (regex.test(relative)) found.push(full);
    }
  };
  walk(root, '', 0);
  return found;
}

/** Relative `python_file`s are relative to the YAML file that declares them: made absolute on read. */
function anchorPaths(resources: unknown, file: string): void {
  if (!isObject(resources) || !isObject(resources.jobs)) return;
  for (const job of Object.values(resources.jobs)) {
    if (!isObject(job) || !Array.isArray(job.tasks)) continue;
    for (const task of job.tasks) {
      if (!isObject(task) || !isObject(task.spark_python_task)) continue;
      const file_ = task.spark_python_task.python_file;
      if (typeof file_ === 'string' && !file_.includes('${') && !path.isAbsolute(file_)) {
        task.spark_python_task.python_file = path.resolve(path.dirname(file), file_);
      }
    }
  }
}

/** Deep merge as bundles do for target overrides: maps merge, `tasks` merge by task_key, other arrays replace. */
function merge(base: unknown, override: unknown, key = ''): unknown {
  if (isObject(base) && isObject(override)) {
    const out: Json = { ...base };
    for (const [k, v] of Object.entries(override)) out[k] = k in base ? merge(base[k], v, k) : v;
    return out;
  }
  if (key === 'tasks' && Array.isArray(base) && Array.isArray(override)) {
    const out: unknown[] = (base as unknown[]).slice();
    for (const task of override) {
      const at = out.findIndex((t) => isObject(t) && isObject(task) && t.task_key === task.task_key);
      if (at >= 0) out[at] = merge(out[at], task);
      else out.push(task);
    }
    return out;
  }
  return override;
}

export interface LoadBundleOptions {
  target?: string;
  /** BUNDLE_VAR_<name> overrides, as the Databricks CLI reads them (default: process.env). */
  env?: Record<string, string | undefined>;
  /**
   * Variable values that win over the target and BUNDLE_VAR_*, as `--var=name=value` does for the CLI
   * (the emulator passes the lake roots of its configuration this way). Each must be declared.
   */
  overrides?: Record<string, string>;
  /**
   * Values for whichever of these variables the bundle declares (others are ignored): they win over the
   * target's values and lose to BUNDLE_VAR_* and `overrides`. The emulator provides the lake roots this way.
   */
  provided?: Record<string, string>;
}

interface Context {
  bundleName: string;
  target: string;
  root: string;
  variables: Record<string, unknown>;
  workspace: Json;
  jobKeys: Set<string>;
}

const REFERENCE = /\$\{([^}]+)\}/g;

function lookup(ref: string, ctx: Context, where: string): unknown {
  const name = ref.trim();
  const varMatch = /^(?:var|variables)\.([A-Za-z0-9_-]+)(?:\.value)?$/.exec(name);
  if (varMatch) {
    const variable = varMatch[1] ?? '';
    if (!(variable in ctx.variables)) {
      throw new BundleError(
        `${where}: \${${name}} has no value in target '${ctx.target}' (declare a default, set it in targets.${ctx.target}.variables, or export BUNDLE_VAR_${variable})`,
      );
    }
    return ctx.variables[variable];
  }
  switch (name) {
    case 'bundle.name':
      return ctx.bundleName;
    case 'bundle.target':
    case 'bundle.environment':
      return ctx.target;
    case 'workspace.root_path':
    case 'workspace.file_path':
      return typeof ctx.workspace[name.slice(10)] === 'string' ? ctx.workspace[name.slice(10)] : ctx.root;
    case 'workspace.artifact_path':
      return path.join(ctx.root, 'dist');
    case 'workspace.current_user.userName':
    case 'workspace.current_user.short_name':
      return os.userInfo().username;
  }
  const resource = /^resources\.jobs\.([A-Za-z0-9_-]+)\.(id|name)$/.exec(name);
  if (resource && ctx.jobKeys.has(resource[1] ?? '')) {
    // Left for the emulator, which knows the ids; written back in the {{...}} form it resolves at run time.
    return `{{lakewatt.resources.jobs.${resource[1]}.${resource[2]}}}`;
  }
  throw new BundleError(
    `${where}: \${${name}} cannot be resolved by the local emulator (supported: var.*, bundle.name, bundle.target, workspace.root_path, workspace.file_path, workspace.artifact_path, workspace.current_user.*, resources.jobs.<key>.id|name)`,
  );
}

function interpolate(value: unknown, ctx: Context, where: string): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]+)\}$/.exec(value);
    if (whole) return interpolate(lookup(whole[1] ?? '', ctx, where), ctx, where);
    return value.replace(REFERENCE, (_m, ref: string) => {
      const resolved = interpolate(lookup(ref, ctx, where), ctx, where);
      return typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, ctx, `${where}[${i}]`));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, ctx, `${where}.${k}`)]),
    );
  }
  return value;
}

function str(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new BundleError(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

function optionalInt(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new BundleError(`${where}: expected a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

const TASK_TYPES = [
  'spark_python_task',
  'python_wheel_task',
  'notebook_task',
  'spark_jar_task',
  'spark_submit_task',
  'pipeline_task',
  'sql_task',
  'dbt_task',
  'run_job_task',
  'condition_task',
  'for_each_task',
];

function toTask(raw: unknown, root: string, where: string): BundleTask {
  if (!isObject(raw)) throw new BundleError(`${where}: a task must be a mapping`);
  const taskKey = str(raw.task_key, `${where}.task_key`);
  const at = `${where}(${taskKey})`;
  let kind: TaskKind;
  if (isObject(raw.spark_python_task)) {
    const spec = raw.spark_python_task;
    if (spec.source !== undefined && spec.source !== 'WORKSPACE') {
      kind = { type: 'unsupported', taskType: `spark_python_task with source ${str(spec.source, at)}` };
    } else {
      const file = str(spec.python_file, `${at}.spark_python_task.python_file`);
      kind = {
        type: 'spark_python_task',
        pythonFile: path.isAbsolute(file) ? file : path.resolve(root, file),
        parameters: (Array.isArray(spec.parameters) ? spec.parameters : []).map((p, i) =>
          str(p, `${at}.spark_python_task.parameters[${i}]`),
        ),
      };
    }
  } else if (isObject(raw.python_wheel_task)) {
    const spec = raw.python_wheel_task;
    const named = isObject(spec.named_parameters) ? spec.named_parameters : {};
    kind = {
      type: 'python_wheel_task',
      packageName: str(spec.package_name, `${at}.python_wheel_task.package_name`),
      entryPoint: str(spec.entry_point, `${at}.python_wheel_task.entry_point`),
      parameters: (Array.isArray(spec.parameters) ? spec.parameters : []).map((p, i) =>
        str(p, `${at}.python_wheel_task.parameters[${i}]`),
      ),
      namedParameters: Object.fromEntries(
        Object.entries(named).map(([k, v]) => [k, str(v, `${at}.python_wheel_task.named_parameters.${k}`)]),
      ),
    };
  } else {
    kind = { type: 'unsupported', taskType: TASK_TYPES.find((t) => t in raw) ?? 'unknown task type' };
  }
  const dependsOn = (Array.isArray(raw.depends_on) ? raw.depends_on : []).map((d, i) => {
    if (!isObject(d)) throw new BundleError(`${at}.depends_on[${i}]: expected {task_key}`);
    const outcome = d.outcome === undefined ? undefined : str(d.outcome, `${at}.depends_on[${i}].outcome`);
    return { taskKey: str(d.task_key, `${at}.depends_on[${i}].task_key`), ...(outcome ? { outcome } : {}) };
  });
  return {
    taskKey,
    dependsOn,
    runIf: raw.run_if === undefined ? 'ALL_SUCCESS' : str(raw.run_if, `${at}.run_if`),
    timeoutSeconds: optionalInt(raw.timeout_seconds, `${at}.timeout_seconds`) || undefined,
    maxRetries: optionalInt(raw.max_retries, `${at}.max_retries`) ?? 0,
    minRetryIntervalMs: optionalInt(raw.min_retry_interval_millis, `${at}.min_retry_interval_millis`) ?? 0,
    retryOnTimeout: raw.retry_on_timeout === true,
    kind,
  };
}

/** Task keys in an order where every task comes after the tasks it depends on; rejects cycles. */
function checkGraph(tasks: BundleTask[], where: string): BundleTask[] {
  const byKey = new Map(tasks.map((t) => [t.taskKey, t]));
  if (byKey.size !== tasks.length) throw new BundleError(`${where}: task keys must be unique`);
  const ordered: BundleTask[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (task: BundleTask, chain: string[]): void => {
    if (state.get(task.taskKey) === 'done') return;
    if (state.get(task.taskKey) === 'visiting') {
      throw new BundleError(
        `${where}: tasks depend on each other in a cycle: ${[...chain, task.taskKey].join(' -> ')}`,
      );
    }
    state.set(task.taskKey, 'visiting');
    for (const dep of task.dependsOn) {
      const upstream = byKey.get(dep.taskKey);
      if (!upstream)
        throw new BundleError(`${where}: task ${task.taskKey} depends on unknown task ${dep.taskKey}`);
      visit(upstream, [...chain, task.taskKey]);
    }
    state.set(task.taskKey, 'done');
    ordered.push(task);
  };
  for (const task of tasks) visit(task, []);
  return ordered;
}

/**
 * Reads an Asset Bundle the way `databricks bundle validate -t <target>` would see its jobs, far enough for the
 * emulator: `databricks.yml` and its `include` globs, variables (default < target < provided < BUNDLE_VAR_* <
 * overrides), target
 * resource overrides, `${...}` references that have a local meaning, and relative `python_file`s.
 */
export function loadBundle(dir: string, options: LoadBundleOptions = {}): Bundle {
  const root = path.resolve(dir);
  const mainFile = ['databricks.yml', 'databricks.yaml', 'bundle.yml']
    .map((name) => path.join(root, name))
    .find((file) => {
      try {
        return statSync(file).isFile();
      } catch {
        return false;
      }
    });
  if (!mainFile) throw new BundleError(`no databricks.yml in ${root}`);
  const main = readYaml(mainFile);
  const bundleName =
    isObject(main.bundle) && typeof main.bundle.name === 'string' ? main.bundle.name : 'bundle';
  anchorPaths(main.resources, mainFile);
  let resources: unknown = isObject(main.resources) ? main.resources : {};
  const includes = Array.isArray(main.include) ? main.include : [];
  for (const pattern of includes) {
    for (const file of glob(root, str(pattern, `${mainFile}: include`))) {
      const doc = readYaml(file);
      anchorPaths(doc.resources, file);
      resources = merge(resources, isObject(doc.resources) ? doc.resources : {});
    }
  }
  const targets = isObject(main.targets) ? main.targets : {};
  const targetName =
    options.target ??
    Object.entries(targets).find(([, t]) => isObject(t) && t.default === true)?.[0] ??
    'local';
  const target = targets[targetName];
  if (Object.keys(targets).length > 0 && !isObject(target)) {
    throw new BundleError(
      `${mainFile}: no target '${targetName}' (targets: ${Object.keys(targets).join(', ')})`,
    );
  }
  const targetObject = isObject(target) ? target : {};
  anchorPaths(targetObject.resources, mainFile);
  if (isObject(targetObject.resources)) resources = merge(resources, targetObject.resources);

  const env = options.env ?? process.env;
  const variables: Record<string, unknown> = {};
  const declared = isObject(main.variables) ? main.variables : {};
  const targetVars = isObject(targetObject.variables) ? targetObject.variables : {};
  for (const [name, spec] of Object.entries(declared)) {
    if (isObject(spec) && 'default' in spec) variables[name] = spec.default;
    if (name in targetVars) {
      const value = targetVars[name];
      variables[name] = isObject(value) && 'default' in value ? value.default : value;
    }
    const provided = options.provided?.[name];
    if (provided !== undefined) variables[name] = provided;
    const fromEnv = env[`BUNDLE_VAR_${name}`];
    if (fromEnv !== undefined) variables[name] = fromEnv;
  }
  for (const name of Object.keys(targetVars)) {
    if (!(name in declared))
      throw new BundleError(`${mainFile}: targets.${targetName}.variables.${name} is not declared`);
  }
  for (const [name, value] of Object.entries(options.overrides ?? {})) {
    if (!(name in declared)) {
      throw new BundleError(
        `${mainFile}: variable override ${name} is not declared (declared: ${Object.keys(declared).join(', ')})`,
      );
    }
    variables[name] = value;
  }

  const jobsRaw = isObject(resources) && isObject(resources.jobs) ? resources.jobs : {};
  const ctx: Context = {
    bundleName,
    target: targetName,
    root,
    variables,
    workspace: isObject(targetObject.workspace) ? targetObject.workspace : {},
    jobKeys: new Set(Object.keys(jobsRaw)),
  };
  // Variables may reference other variables and bundle fields.
  for (const [name, value] of Object.entries(variables)) {
    variables[name] = interpolate(value, ctx, `variables.${name}`);
  }
  const jobs: BundleJob[] = [];
  for (const [key, rawJob] of Object.entries(jobsRaw)) {
    if (!isObject(rawJob)) throw new BundleError(`resources.jobs.${key} must be a mapping`);
    const where = `resources.jobs.${key}`;
    // Permissions, notifications and the like are for the workspace only; never resolved or checked here.
    const { permissions: _p, email_notifications: _e, webhook_notifications: _w, ...relevant } = rawJob;
    const job = interpolate(relevant, ctx, where) as Json;
    const tasks = checkGraph(
      (Array.isArray(job.tasks) ? job.tasks : []).map((t, i) => toTask(t, root, `${where}.tasks[${i}]`)),
      where,
    );
    if (tasks.length === 0) throw new BundleError(`${where}: a job needs at least one task`);
    const parameters = (Array.isArray(job.parameters) ? job.parameters : []).map((p, i) => {
      if (!isObject(p)) throw new BundleError(`${where}.parameters[${i}]: expected {name, default}`);
      return {
        name: str(p.name, `${where}.parameters[${i}].name`),
        default: p.default === undefined ? '' : str(p.default, `${where}.parameters[${i}].default`),
      };
    });
    jobs.push({
      key,
      name: job.name === undefined ? key : str(job.name, `${where}.name`),
      parameters,
      maxConcurrentRuns: optionalInt(job.max_concurrent_runs, `${where}.max_concurrent_runs`) || 1,
      queueEnabled: !(isObject(job.queue) && job.queue.enabled === false),
      timeoutSeconds: optionalInt(job.timeout_seconds, `${where}.timeout_seconds`) || undefined,
      tasks,
      settings: job,
    });
  }
  const names = new Map<string, string>();
  for (const job of jobs) {
    const other = names.get(job.name.toLowerCase());
    if (other) throw new BundleError(`jobs ${other} and ${job.key} share the name '${job.name}'`);
    names.set(job.name.toLowerCase(), job.key);
  }
  return { root, name: bundleName, target: targetName, variables, jobs };
}
