import { LakewattError } from '../../lib/errors';

/** A `{{...}}` dynamic value reference the emulator cannot resolve. */
export class DynamicReferenceError extends LakewattError {
  constructor(message: string) {
    super('INVALID_RUN_CONFIGURATION', message);
  }
}

export interface ReferenceContext {
  jobId: number;
  jobName: string;
  runId: number;
  startTime: number;
  parameters: Record<string, string>;
  taskKey: string;
  taskRunId: number;
  attempt: number;
  /** Other tasks of the run, for `{{tasks.<key>.run_id}}` and `{{tasks.<key>.result_state}}`. */
  tasks: Record<string, { runId: number; resultState: string | undefined }>;
  /** Job ids by bundle resource key, for `${resources.jobs.<key>.id}`. */
  jobIdsByKey: Record<string, number>;
  jobNamesByKey: Record<string, string>;
  workspaceUrl: string;
}

function timeValue(field: string, epochMs: number): string | undefined {
  const d = new Date(epochMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  switch (field) {
    case 'iso_datetime':
      return d.toISOString().replace(/\.\d{3}Z$/, '');
    case 'iso_date':
      return d.toISOString().slice(0, 10);
    case 'timestamp_ms':
      return String(epochMs);
    case 'year':
      return String(d.getUTCFullYear());
    case 'month':
      return pad(d.getUTCMonth() + 1);
    case 'day':
      return pad(d.getUTCDate());
    case 'hour':
      return pad(d.getUTCHours());
    case 'minute':
      return pad(d.getUTCMinutes());
    case 'second':
      return pad(d.getUTCSeconds());
    case 'iso_weekday':
      return String(((d.getUTCDay() + 6) % 7) + 1);
    case 'is_weekday':
      return String(d.getUTCDay() !== 0 && d.getUTCDay() !== 6);
    default:
      return undefined;
  }
}

function lookup(ref: string, ctx: ReferenceContext): string | undefined {
  const param = /^job\.parameters\.(.+)$/.exec(ref);
  if (param) return ctx.parameters[param[1] ?? ''];
  const start = /^job\.(?:start_time|trigger\.time)\.(\w+)$/.exec(ref);
  if (start) return timeValue(start[1] ?? '', ctx.startTime);
  const other = /^tasks\.([^.]+)\.(run_id|result_state)$/.exec(ref);
  if (other) {
    const task = ctx.tasks[other[1] ?? ''];
    if (!task) return undefined;
    return other[2] === 'run_id' ? String(task.runId) : (task.resultState ?? '');
  }
  const resource = /^lakewatt\.resources\.jobs\.([^.]+)\.(id|name)$/.exec(ref);
  if (resource) {
    const key = resource[1] ?? '';
    const value = resource[2] === 'id' ? ctx.jobIdsByKey[key] : ctx.jobNamesByKey[key];
    return value === undefined ? undefined : String(value);
  }
  switch (ref) {
    case 'job.id':
    case 'job_id':
      return String(ctx.jobId);
    case 'job.name':
      return ctx.jobName;
    case 'job.run_id':
    case 'parent_run_id':
      return String(ctx.runId);
    case 'job.repair_count':
      return '0';
    case 'job.trigger.type':
      return 'ONE_TIME';
    case 'task.name':
    case 'task_key':
      return ctx.taskKey;
    case 'task.run_id':
    case 'run_id':
      return String(ctx.taskRunId);
    case 'task.execution_count':
      return String(ctx.attempt + 1);
    case 'workspace.id':
      return '0';
    case 'workspace.url':
      return ctx.workspaceUrl;
    default:
      return undefined;
  }
}

/**
 * Replaces the `{{...}}` dynamic value references Databricks resolves at run time (job parameters, ids, start
 * time, task values). An unknown reference is an error naming it, as a misspelt reference would make the real
 * service fail the run.
 */
export function resolveReferences(text: string, ctx: ReferenceContext): string {
  return text.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, (_match, ref: string) => {
    const value = lookup(ref, ctx);
    if (value === undefined) {
      throw new DynamicReferenceError(`unknown dynamic value reference {{${ref}}} in task ${ctx.taskKey}`);
    }
    return value;
  });
}
