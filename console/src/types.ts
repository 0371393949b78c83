/**
 * What the console reads from the runs API (functions/runsApi.ts, lib/pipeline/runs*.ts), as the page sees
 * the JSON. Written out here rather than imported: the page bundle must not pull in the server's modules
 * (zod schemas, node built-ins), and a field the page does not use is not listed.
 */

export const RUNTIME_STATUSES = [
  'Running',
  'Pending',
  'Completed',
  'Failed',
  'Canceled',
  'Terminated',
] as const;
export const VERDICTS = ['accepted', 'accepted_with_rejections', 'rejected'] as const;
export const DATASETS = ['meter_readings', 'customers', 'contracts', 'prices'] as const;
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set([
  'Running',
  'Pending',
  'ContinuedAsNew',
  'Suspended',
]);

export interface RunSummary {
  kind: 'ingest' | 'pricePull';
  instanceId: string;
  runtimeStatus: string;
  stage: string | null;
  batch: { in: string } | { behind: string } | null;
  verdict: string | null;
  generation: number | null;
  dataset: string | null;
  source: string | null;
  path: string | null;
  createdTime: string;
  lastUpdatedTime: string;
  auditPath: string | null;
}

export interface RunsPage {
  runs: RunSummary[];
  continuationToken: string | null;
}

export interface StageTiming {
  stage: 'validate' | 'silver' | 'gold' | 'audit';
  startedAt: string;
  endedAt: string;
  durationMs: number;
  status: 'succeeded' | 'failed' | 'skipped';
}

export interface DatabricksRun {
  step: 'silver' | 'gold';
  job: string;
  runId: number | null;
  runPageUrl: string | null;
  batch?: { id: string; queue: string; size: number; members: string[] } | null;
  outcome: string | null;
  lifeCycleState: string | null;
  resultState: string | null;
  stateMessage: string | null;
  submittedAt: string;
  endedAt: string | null;
  /** The run's own time on the cluster (Databricks start to end). */
  durationMs: number | null;
  polls: number;
}

export interface AuditRecord {
  generation: number;
  trigger: string;
  status: 'completed' | 'rejected' | 'failed';
  verdict: string | null;
  requestedAt: string;
  startedAt: string;
  endedAt: string;
  outputs: { staging: string | null; quarantine: string | null };
  validation: {
    counts: { rowsRead: number; rowsValid: number; rowsRejected: number };
    ruleFailures: Record<string, number>;
    reasons: Array<{ code: string; message: string }>;
  } | null;
  reasons: Array<{ code: string; message: string }>;
  databricksRuns: DatabricksRun[];
  stages: StageTiming[];
  error: { stage: string; code: string; message: string } | null;
}

export interface RunDetail extends RunSummary {
  trigger: string | null;
  requestedAt: string | null;
  requestedBy: { kind: string; id: string; name: string } | null;
  error: string | null;
  audit: AuditRecord | null;
}

export interface ReplayedRun {
  instanceId: string;
  generation: number;
  dataset: string | null;
  source: string | null;
  path: string | null;
}

export interface BulkReplayResult {
  matched: number;
  replayed: ReplayedRun[];
  refused: Array<{ instanceId: string; code: string; message: string }>;
  dryRun: boolean;
}

export interface RejectedRow {
  line: number;
  column: string | null;
  rows: number;
  raw: string | null;
  reasons: Array<{ code: string; message: string; column: string | null }>;
}

export interface RejectedRowsPage {
  instanceId: string;
  generation: number;
  dataset: string;
  path: string | null;
  rawWithheld: boolean;
  offset: number;
  rows: RejectedRow[];
  nextOffset: number | null;
}

export interface StartedReply {
  instanceId: string;
  generation: number;
  trigger: string;
}
