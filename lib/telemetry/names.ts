/**
 * Every name Lakewatt's telemetry emits, in one place: the workbook and the alert rules under infra/ query
 * exactly these (test/unit/infra/observability.test.ts checks their KQL against this file). Dimensions are
 * plain snake_case keys, the same on spans and on events, so one vocabulary serves both.
 */

export const INSTRUMENTATION_NAME = 'lakewatt';

/** Span names. An activity's span is `activity <registered name>`. */
export const SPANS = {
  /** The file's root span, opened by the starter (Event Grid trigger, reconciliation, replay API). */
  ingestStart: 'ingest.start',
  activityPrefix: 'activity ',
  /** One Databricks run as one file saw it (from submit to end), recorded when its batch reports. */
  databricksRun: 'databricks.run',
} as const;

export const activitySpanName = (activity: string): string => `${SPANS.activityPrefix}${activity}`;

/**
 * Structured events (Application Insights `customEvents`, `name` = the event name, dimensions in
 * `customDimensions`). Each lists every dimension it may carry.
 */
export const EVENT_DIMENSIONS = {
  /** A file's orchestration was started (event, reconciliation, replay, reprocess). */
  IngestStarted: ['instance_id', 'generation', 'dataset', 'source', 'trigger', 'trace_id'],
  /** A file's audit record was written: the run ended completed, rejected or failed. */
  IngestRunEnded: [
    'instance_id',
    'generation',
    'dataset',
    'source',
    'verdict',
    'status',
    'trigger',
    'error_code',
    'error_stage',
    'rows_read',
    'rows_rejected',
    'duration_ms',
    'trace_id',
  ],
  /** An activity threw (each attempt: durable retries may follow). */
  ActivityFailed: ['activity', 'instance_id', 'code', 'message', 'trace_id'],
  /** A Databricks run ended (once per run, when its batch reports to its files). */
  DatabricksRunEnded: [
    'run_id',
    'job',
    'step',
    'queue',
    'outcome',
    'duration_ms',
    'batch_id',
    'batch_size',
    'polls',
    'trace_id',
  ],
  /** A source's expected file is late or missing (emitted by the freshness check). */
  FreshnessBreach: ['source', 'dataset', 'date', 'kind', 'delay_minutes'],
} as const satisfies Record<string, readonly string[]>;

export type EventName = keyof typeof EVENT_DIMENSIONS;
export const EVENT_NAMES = Object.keys(EVENT_DIMENSIONS) as EventName[];

export type DimensionValue = string | number | boolean | null;

/** The dimensions of one event: every listed key may be given; unknown keys are a type error. */
export type EventDimensions<E extends EventName> = Partial<
  Record<(typeof EVENT_DIMENSIONS)[E][number], DimensionValue>
>;

/** Attribute keys the spans carry (beyond the standard ones the exporter adds). */
export const SPAN_ATTRIBUTES = [
  'instance_id',
  'generation',
  'dataset',
  'source',
  'trigger',
  'verdict',
  'status',
  'activity',
  'code',
  'run_id',
  'job',
  'step',
  'queue',
  'outcome',
  'duration_ms',
  'batch_id',
  'batch_size',
  'run_page_url',
] as const;
export type SpanAttributeKey = (typeof SPAN_ATTRIBUTES)[number];
export type SpanAttributesOf = Partial<Record<SpanAttributeKey, string | number | boolean>>;
