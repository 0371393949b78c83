import { z } from 'zod';

import { LakewattError } from '../../lib/errors';

/**
 * Faults the emulator injects, so retry and failure paths are tested against real HTTP:
 * - `http`: answer the next `count` requests (optionally only those whose route ends with `route`) with
 *   `status` (429, 503, 500...) and, for 429/503, a `Retry-After` of `retryAfterSeconds`.
 * - `tasks`: the next `count` runs of a task (by `task` key, optionally only in job `job`, by name, and only in
 *   runs whose job parameter `parameter.name` contains `parameter.contains`: a "poison" file among a batch's
 *   `instance_ids`) end `INTERNAL_ERROR` or `FAILED` with `message`, without running.
 */
export const FaultConfigSchema = z.strictObject({
  http: z
    .array(
      z.strictObject({
        status: z.number().int().min(400).max(599),
        count: z.number().int().positive().default(1),
        route: z.string().optional(),
        retryAfterSeconds: z.number().nonnegative().optional(),
        errorCode: z.string().optional(),
      }),
    )
    .default([]),
  tasks: z
    .array(
      z.strictObject({
        task: z.string(),
        job: z.string().optional(),
        outcome: z.enum(['INTERNAL_ERROR', 'FAILED']),
        count: z.number().int().positive().default(1),
        message: z.string().optional(),
        parameter: z.strictObject({ name: z.string(), contains: z.string().min(1) }).optional(),
      }),
    )
    .default([]),
});

export type FaultConfig = z.input<typeof FaultConfigSchema>;
type ParsedFaults = z.output<typeof FaultConfigSchema>;
export type HttpFault = ParsedFaults['http'][number];
export type TaskFault = ParsedFaults['tasks'][number];

export class FaultConfigError extends LakewattError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

export function parseFaults(value: unknown, source: string): ParsedFaults {
  const parsed = FaultConfigSchema.safeParse(value);
  if (!parsed.success) {
    throw new FaultConfigError(
      `${source}: invalid fault configuration: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** Holds the configured faults and counts them down as they fire. */
export class FaultInjector {
  private http: HttpFault[] = [];
  private tasks: TaskFault[] = [];

  constructor(initial?: FaultConfig) {
    if (initial) this.set(initial);
  }

  /** Replaces every pending fault. */
  set(config: FaultConfig): void {
    const parsed = parseFaults(config, 'faults');
    this.http = parsed.http.map((f) => ({ ...f }));
    this.tasks = parsed.tasks.map((f) => ({ ...f }));
  }

  pending(): ParsedFaults {
    return { http: this.http.map((f) => ({ ...f })), tasks: this.tasks.map((f) => ({ ...f })) };
  }

  /** The HTTP fault for this request, if one is due; consumes one count. */
  takeHttp(route: string): HttpFault | undefined {
    const fault = this.http.find((f) => f.count > 0 && (f.route === undefined || route.endsWith(f.route)));
    if (!fault) return undefined;
    fault.count--;
    this.http = this.http.filter((f) => f.count > 0);
    return fault;
  }

  takeTask(jobName: string, taskKey: string, parameters: Record<string, string> = {}): TaskFault | undefined {
    const fault = this.tasks.find(
      (f) =>
        f.count > 0 &&
        f.task === taskKey &&
        (f.job === undefined || f.job === jobName) &&
        (f.parameter === undefined || (parameters[f.parameter.name] ?? '').includes(f.parameter.contains)),
    );
    if (!fault) return undefined;
    fault.count--;
    this.tasks = this.tasks.filter((f) => f.count > 0);
    return fault;
  }
}
