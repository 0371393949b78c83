import { z } from 'zod';

import type { DatabricksRunRecord } from '../audit/record';
import { DATASET_NAMES, type DatasetName } from '../contracts/datasets';
import { traceparentSchema } from '../telemetry/traceContext';
import { veeOutcomeSchema } from './vee';

/**
 * Group commit (docs/decisions/0014-group-commit.md): the unit of work is the file, the unit of compute is
 * the batch. A validated file joins its step's queue (silver: one per dataset; gold: one for all); when the
 * queue has no batch running, the file starts one at once with itself, and files that join meanwhile wait
 * for the next batch, which starts as soon as the running one finishes, with every file that waited (up to
 * the caps). The queue's state lives in a Durable Entity; these functions are its pure logic.
 */

export const BATCH_STEPS = ['silver', 'gold'] as const;
export type BatchStep = (typeof BATCH_STEPS)[number];

/** The entity that holds the queues (its key names the queue). */
export const BATCH_QUEUE_ENTITY = 'batchQueue';
export const BATCH_ORCHESTRATION = 'runBatch';

export const batchMemberSchema = z.object({
  instanceId: z.string().min(1),
  generation: z.number().int().nonnegative(),
  dataset: z.enum(DATASET_NAMES),
  /** Valid rows the file staged (caps). */
  rows: z.number().int().nonnegative(),
  /** Size of the bronze file in bytes (caps). */
  bytes: z.number().int().nonnegative(),
  /** UTC days (YYYY-MM-DD) the file's rows touch: what gold recomputes. */
  dates: z.array(z.string()),
  /** The file's trace: its batch's runs are recorded in it (absent in members queued before it existed). */
  traceparent: traceparentSchema.optional(),
});
export type BatchMember = z.infer<typeof batchMemberSchema>;

export const batchCapsSchema = z.object({
  files: z.number().int().positive(),
  rows: z.number().int().positive(),
  bytes: z.number().int().positive(),
});
export type BatchCaps = z.infer<typeof batchCapsSchema>;

/** Caps a dataset's silver batches use instead of the general ones (setting BATCH_CAPS_BY_DATASET). */
export const datasetCapsSchema = z
  .object({
    maxFiles: z.number().int().positive(),
    maxRows: z.number().int().positive(),
    maxBytes: z.number().int().positive(),
  })
  .partial()
  .strict();
export type DatasetCaps = z.infer<typeof datasetCapsSchema>;

export interface BatchSettings {
  maxFiles: number;
  maxRows: number;
  maxBytes: number;
  byDataset?: Partial<Record<DatasetName, DatasetCaps>>;
}

/**
 * The caps of a step's batches. Silver's cost grows with the rows it merges, so the settings cap it (a
 * dataset may have caps of its own); a gold run's cost grows with the days it recomputes, not with the files
 * that touched them, so a gold batch takes every file that waits.
 */
export function batchCaps(step: BatchStep, settings: BatchSettings, dataset?: DatasetName): BatchCaps {
  if (step === 'gold') {
    return { files: 100_000, rows: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER };
  }
  const own = dataset ? (settings.byDataset?.[dataset] ?? {}) : {};
  return {
    files: own.maxFiles ?? settings.maxFiles,
    rows: own.maxRows ?? settings.maxRows,
    bytes: own.maxBytes ?? settings.maxBytes,
  };
}

export const batchSpecSchema = z.object({
  queue: z.string().min(1),
  step: z.enum(BATCH_STEPS),
  seq: z.number().int().positive(),
  /** The batch orchestration's instance id: unique, also the `orchestration_id` of its job runs. */
  batchId: z.string().min(1),
  members: z.array(batchMemberSchema).min(1),
  /**
   * Lingering (BATCH_LINGER_SECONDS): the batch started on an idle queue and still takes files that join,
   * up to its caps, until its orchestration seals it. Batches that follow a finished one start sealed.
   */
  open: z.boolean().default(false),
});
export type BatchSpec = z.infer<typeof batchSpecSchema>;

export const queueStateSchema = z.object({
  seq: z.number().int().nonnegative(),
  /** Distinguishes this queue's batch ids from those of an earlier queue state (a wiped local store). */
  epoch: z.string(),
  waiting: z.array(batchMemberSchema),
  active: batchSpecSchema.nullable(),
});
export type QueueState = z.infer<typeof queueStateSchema>;

export type JoinAnswer =
  | { kind: 'start'; batch: BatchSpec }
  | { kind: 'running'; batchId: string }
  | { kind: 'waiting'; position: number; behind: string };

export function emptyQueue(epoch: string): QueueState {
  return { seq: 0, epoch, waiting: [], active: null };
}

/** The queue a file joins for a step: silver per dataset, gold for every dataset at once. */
export function queueKey(step: BatchStep, dataset: DatasetName): string {
  return step === 'silver' ? `silver.${dataset}` : 'gold';
}

export function batchInstanceId(queue: string, epoch: string, seq: number): string {
  return `batch-${queue}-${epoch}-${String(seq).padStart(6, '0')}`;
}

const sameFile = (a: BatchMember, b: Pick<BatchMember, 'instanceId'>): boolean =>
  a.instanceId === b.instanceId;

function stepOf(queue: string): BatchStep {
  return queue.startsWith('silver.') ? 'silver' : 'gold';
}

/** Takes waiting files, oldest first, up to the caps (always at least one). */
function takeBatch(waiting: BatchMember[], caps: BatchCaps): { taken: BatchMember[]; left: BatchMember[] } {
  const taken: BatchMember[] = [];
  let rows = 0;
  let bytes = 0;
  for (const member of waiting) {
    const over =
      taken.length >= caps.files || rows + member.rows > caps.rows || bytes + member.bytes > caps.bytes;
    if (over && taken.length > 0) break;
    taken.push(member);
    rows += member.rows;
    bytes += member.bytes;
  }
  return { taken, left: waiting.slice(taken.length) };
}

function startNext(state: QueueState, queue: string, caps: BatchCaps, open = false): QueueState {
  if (state.waiting.length === 0) return { ...state, active: null };
  const { taken, left } = takeBatch(state.waiting, caps);
  const seq = state.seq + 1;
  return {
    ...state,
    seq,
    waiting: left,
    active: {
      queue,
      step: stepOf(queue),
      seq,
      batchId: batchInstanceId(queue, state.epoch, seq),
      members: taken,
      open,
    },
  };
}

function fitsIn(batch: BatchSpec, member: BatchMember, caps: BatchCaps): boolean {
  const rows = batch.members.reduce((sum, m) => sum + m.rows, 0);
  const bytes = batch.members.reduce((sum, m) => sum + m.bytes, 0);
  return (
    batch.members.length < caps.files && rows + member.rows <= caps.rows && bytes + member.bytes <= caps.bytes
  );
}

/**
 * A file asks for a place in the queue. Idempotent per file version: asking again answers where it is. A
 * newer generation of a waiting file (a replay) takes its place. With `linger`, a batch started on an idle
 * queue stays open: files that join it while it lingers run in it (up to the caps) instead of waiting.
 */
export function joinQueue(
  state: QueueState,
  queue: string,
  member: BatchMember,
  caps: BatchCaps,
  linger = false,
): { state: QueueState; answer: JoinAnswer } {
  const active = state.active;
  const inActive = active?.members.find((m) => sameFile(m, member) && m.generation === member.generation);
  // Asked again (a repeated call): answer as at first; starting a batch that runs already is a no-op.
  if (active && inActive) return { state, answer: { kind: 'start', batch: active } };
  const behind = active?.batchId ?? '';
  const queuedAt = state.waiting.findIndex((m) => sameFile(m, member) && m.generation >= member.generation);
  if (queuedAt >= 0) return { state, answer: { kind: 'waiting', position: queuedAt, behind } };
  const older = state.waiting.findIndex((m) => sameFile(m, member));
  if (
    active?.open &&
    older < 0 &&
    !active.members.some((m) => sameFile(m, member)) &&
    fitsIn(active, member, caps)
  ) {
    const joined = { ...active, members: [...active.members, member] };
    return { state: { ...state, active: joined }, answer: { kind: 'running', batchId: active.batchId } };
  }
  const waiting =
    older >= 0 ? state.waiting.map((m, i) => (i === older ? member : m)) : [...state.waiting, member];
  const queued: QueueState = { ...state, waiting };
  if (!active) {
    const next = startNext(queued, queue, caps, linger);
    const batch = next.active!;
    if (batch.members.some((m) => sameFile(m, member)))
      return { state: next, answer: { kind: 'start', batch } };
    return {
      state: next,
      answer: { kind: 'waiting', position: next.waiting.length - 1, behind: batch.batchId },
    };
  }
  return { state: queued, answer: { kind: 'waiting', position: waiting.indexOf(member), behind } };
}

/**
 * The running batch ended: the next batch (every file that waited, up to the caps) becomes the running one
 * and is returned for its orchestration to be started. Finishing a batch that is not the running one (a
 * repeated call) changes nothing and starts nothing.
 */
export function finishBatch(
  state: QueueState,
  queue: string,
  batchId: string,
  caps: BatchCaps,
): { state: QueueState; next: BatchSpec | null } {
  if (state.active?.batchId !== batchId) return { state, next: null };
  const next = startNext({ ...state, active: null }, queue, caps);
  return { state: next, next: next.active };
}

/**
 * A lingering batch's orchestration closes it after the linger: its members are final from then on, and
 * files that join later wait for the next batch. Sealing a sealed or finished batch changes nothing; the
 * answer is the batch as it runs (null when it is not the running one).
 */
export function sealBatch(
  state: QueueState,
  batchId: string,
): { state: QueueState; batch: BatchSpec | null } {
  if (state.active?.batchId !== batchId) return { state, batch: null };
  if (!state.active.open) return { state, batch: state.active };
  const sealed = { ...state.active, open: false };
  return { state: { ...state, active: sealed }, batch: sealed };
}

/** Where a batch that failed on its data splits: halves, until the failing file is alone. */
export function splitMembers<T>(members: readonly T[]): [T[], T[]] {
  const middle = Math.ceil(members.length / 2);
  return [members.slice(0, middle), members.slice(middle)];
}

export const GOLD_TABLE_NAMES = [
  'daily_consumption',
  'customer_daily_cost',
  'load_profile_hourly',
  'consumption_anomalies',
  'data_quality_daily',
  'data_quality_rule_failures',
  'forecast_features',
  'dim_date',
  'dim_holiday',
  'dim_meter',
  'dim_customer',
  'dim_contract',
] as const;
export type GoldTableName = (typeof GOLD_TABLE_NAMES)[number];

/**
 * The gold tables each dataset feeds (what transforms/gold/ reads): readings and contracts feed every
 * table (contracts give each meter its customer, tariff and time zone; readings and zones the days of the
 * date dimension); prices the cost and forecasting tables; customers the tables that group by region and
 * segment, and the meter and customer dimensions. Every dataset feeds the data-quality tables (its files'
 * validation reports).
 */
export const GOLD_TABLES_FED_BY: Record<DatasetName, readonly GoldTableName[]> = {
  meter_readings: GOLD_TABLE_NAMES,
  contracts: GOLD_TABLE_NAMES,
  prices: ['customer_daily_cost', 'data_quality_daily', 'data_quality_rule_failures', 'forecast_features'],
  customers: [
    'load_profile_hourly',
    'consumption_anomalies',
    'data_quality_daily',
    'data_quality_rule_failures',
    'dim_meter',
    'dim_customer',
  ],
};

/**
 * The dimensions built from reference data alone: a contracts or customers file refreshes them even when its
 * change makes no day stale (a new customer, a contract for a meter with no readings yet).
 */
export const DIMENSIONS_FED_BY: Partial<Record<DatasetName, readonly GoldTableName[]>> = {
  contracts: ['dim_meter', 'dim_customer', 'dim_contract'],
  customers: ['dim_meter', 'dim_customer'],
};

/**
 * The gold tables one file's gold step writes: every table its dataset feeds when it has days to recompute;
 * without days only the dimensions its dataset feeds (none for readings and prices: no gold step).
 */
export function goldTablesOf(member: Pick<BatchMember, 'dataset' | 'dates'>): readonly GoldTableName[] {
  return member.dates.length > 0
    ? GOLD_TABLES_FED_BY[member.dataset]
    : (DIMENSIONS_FED_BY[member.dataset] ?? []);
}

/**
 * The job parameters of one gold run for these files: the union of their days and of their tables. A run of
 * dimensions only has no days (`dateFrom` and `dateTo` are then '').
 */
export function goldRunScope(members: readonly Pick<BatchMember, 'dataset' | 'dates'>[]): {
  dateFrom: string;
  dateTo: string;
  dates: string[];
  tables: GoldTableName[];
  datasets: DatasetName[];
} | null {
  const fed = new Set(members.flatMap(goldTablesOf));
  if (fed.size === 0) return null;
  const dates = [...new Set(members.flatMap((m) => m.dates))].sort();
  return {
    dateFrom: dates[0] ?? '',
    dateTo: dates[dates.length - 1] ?? '',
    dates,
    tables: GOLD_TABLE_NAMES.filter((t) => fed.has(t)),
    datasets: [...new Set(members.map((m) => m.dataset))].sort(),
  };
}

/** More distinct days than this go to the gold job as their range (`date_from`..`date_to`) only. */
export const GOLD_EXACT_DAYS_MAX = 366;

/**
 * The gold job's `dates` parameter: the exact days, or '' (every day of `date_from`..`date_to`) when there are
 * more than GOLD_EXACT_DAYS_MAX. A contract correction can make years of days stale; a list that long would
 * outgrow what a job parameter carries (the Jobs API bounds parameter payloads at 10,000 bytes for its
 * older parameter fields), and the range then costs little more than the list.
 */
export function goldDatesParameter(dates: readonly string[]): string {
  return dates.length > GOLD_EXACT_DAYS_MAX ? '' : dates.join(',');
}

/**
 * The UTC days a file's gold step recomputes: its own days and those its silver run's reference-data changes
 * made stale (`affectedDates` is absent in batch events raised before it existed), sorted and distinct.
 */
export function goldDays(own: readonly string[], affected: readonly string[] | undefined): string[] {
  return [...new Set([...own, ...(affected ?? [])])].sort();
}

/** What a batch orchestration tells each of its files when its step ended for them. */
export const batchResultSchema = z.object({
  batchId: z.string(),
  step: z.enum(BATCH_STEPS),
  generation: z.number().int().nonnegative(),
  outcome: z.enum(['succeeded', 'failed']),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /**
   * Silver of reference data: the gold days its changes made stale (contracts, customers), which the file's
   * gold step recomputes beside its own days. Absent in events raised before it existed.
   */
  affectedDates: z.array(z.string()).default([]),
  /** Silver of meter readings: the file's own VEE outcome in its run's manifest. Absent before VEE. */
  vee: veeOutcomeSchema.optional(),
  /** Every run of the batch this file was part of (failed larger runs before a split included). */
  runs: z.array(z.custom<DatabricksRunRecord>()),
});
export type BatchResult = z.infer<typeof batchResultSchema>;

/** The external event a file waits for at a step. */
export function batchEventName(step: BatchStep): string {
  return `batch-${step}-done`;
}
