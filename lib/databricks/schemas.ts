import { z } from 'zod';

/**
 * Wire shapes of the Jobs API 2.2 responses the client reads (field names as on the wire, snake_case).
 * Objects are loose: unknown fields are kept, never rejected, since the API adds fields over time.
 * Enumerations are plain strings on purpose: a value this code does not know (the API says "additional
 * states might be introduced") is kept raw and judged by `runOutcome`, instead of failing the parse.
 */

const id = z.number().int().nonnegative();
const millis = z.number().nonnegative();

export const KNOWN_LIFE_CYCLE_STATES = [
  'QUEUED',
  'PENDING',
  'RUNNING',
  'TERMINATING',
  'TERMINATED',
  'SKIPPED',
  'INTERNAL_ERROR',
  'BLOCKED',
  'WAITING_FOR_RETRY',
] as const;
export type LifeCycleState = (typeof KNOWN_LIFE_CYCLE_STATES)[number];

export const KNOWN_RESULT_STATES = [
  'SUCCESS',
  'FAILED',
  'TIMEDOUT',
  'CANCELED',
  'MAXIMUM_CONCURRENT_RUNS_REACHED',
  'EXCLUDED',
  'SUCCESS_WITH_FAILURES',
  'UPSTREAM_FAILED',
  'UPSTREAM_CANCELED',
  'DISABLED',
] as const;
export type ResultState = (typeof KNOWN_RESULT_STATES)[number];

export const KNOWN_STATUS_STATES = [
  'BLOCKED',
  'PENDING',
  'QUEUED',
  'RUNNING',
  'TERMINATING',
  'TERMINATED',
  'WAITING',
] as const;
export type StatusState = (typeof KNOWN_STATUS_STATES)[number];

export const TerminationDetailsSchema = z.looseObject({
  code: z.string().optional(),
  type: z.string().optional(),
  message: z.string().optional(),
});

export const RunStatusSchema = z.looseObject({
  state: z.string().optional(),
  termination_details: TerminationDetailsSchema.optional(),
  queue_details: z.looseObject({ code: z.string().optional(), message: z.string().optional() }).optional(),
});

export const RunStateSchema = z.looseObject({
  life_cycle_state: z.string().optional(),
  result_state: z.string().optional(),
  state_message: z.string().optional(),
  queue_reason: z.string().optional(),
  user_cancelled_or_timedout: z.boolean().optional(),
});

const timings = {
  start_time: millis.optional(),
  end_time: millis.optional(),
  setup_duration: millis.optional(),
  execution_duration: millis.optional(),
  cleanup_duration: millis.optional(),
  run_duration: millis.optional(),
  queue_duration: millis.optional(),
};

export const RunTaskSchema = z.looseObject({
  task_key: z.string(),
  run_id: id.optional(),
  state: RunStateSchema.optional(),
  status: RunStatusSchema.optional(),
  attempt_number: z.number().int().optional(),
  run_page_url: z.string().optional(),
  ...timings,
});

export const RunSchema = z.looseObject({
  run_id: id,
  job_id: id.optional(),
  run_name: z.string().optional(),
  number_in_job: z.number().int().optional(),
  run_page_url: z.string().optional(),
  run_type: z.string().optional(),
  attempt_number: z.number().int().optional(),
  state: RunStateSchema.optional(),
  status: RunStatusSchema.optional(),
  tasks: z.array(RunTaskSchema).optional(),
  job_parameters: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        value: z.string().optional(),
        default: z.string().optional(),
      }),
    )
    .optional(),
  has_more: z.boolean().optional(),
  next_page_token: z.string().optional(),
  ...timings,
});

export const ListRunsResponseSchema = z.looseObject({
  runs: z.array(RunSchema).optional(),
  has_more: z.boolean().optional(),
  next_page_token: z.string().optional(),
});

export const RunNowResponseSchema = z.looseObject({
  run_id: id,
  number_in_job: z.number().int().optional(),
});

export const BaseJobSchema = z.looseObject({
  job_id: id,
  created_time: millis.optional(),
  creator_user_name: z.string().optional(),
  settings: z.looseObject({ name: z.string().optional() }).optional(),
});

export const ListJobsResponseSchema = z.looseObject({
  jobs: z.array(BaseJobSchema).optional(),
  has_more: z.boolean().optional(),
  next_page_token: z.string().optional(),
});

export const RunOutputSchema = z.looseObject({
  logs: z.string().optional(),
  logs_truncated: z.boolean().optional(),
  error: z.string().optional(),
  error_trace: z.string().optional(),
  notebook_output: z
    .looseObject({ result: z.string().optional(), truncated: z.boolean().optional() })
    .optional(),
  metadata: RunSchema.optional(),
});

/** `{}` (runs/cancel answers with an empty object). */
export const EmptySchema = z.looseObject({});

/** The error body. `error_code` is sometimes a number on legacy endpoints: treated as absent. */
export const ErrorBodySchema = z.looseObject({
  error_code: z.unknown().optional(),
  message: z.unknown().optional(),
  details: z.array(z.unknown()).optional(),
});

export type WireRun = z.output<typeof RunSchema>;
export type WireRunTask = z.output<typeof RunTaskSchema>;
export type WireRunOutput = z.output<typeof RunOutputSchema>;
export type WireBaseJob = z.output<typeof BaseJobSchema>;
export type WireRunStatus = z.output<typeof RunStatusSchema>;
export type WireRunState = z.output<typeof RunStateSchema>;
