import type { AuditRecord } from '../../lib/audit';
import { type InstanceTimes, type ListedRun, median, p95, round } from './measure';

/**
 * Taking one orchestrated file apart (issues 7 and 12): its audit record's stage timings against the
 * emulator's run timings, per step; and the summaries and tables the bench prints of them.
 */

export interface Dropped {
  label: string;
  instanceId: string;
  dropMs: number;
  rows: number;
  times?: InstanceTimes;
}

export interface StepBreakdown {
  runId: number;
  /** The batch the file's run was for (group commit) and how many files it had. */
  batchId: string | null;
  batchSize: number;
  /** The step's share of the orchestration: its stage start to its stage end. */
  stageMs: number;
  /** Stage start -> the emulator created the run (joining the queue, waiting for the running batch, startJobRun). */
  submitMs: number;
  /** Run created -> run ended (emulator clock): queue + waiting for the worker + execution. */
  runMs: number;
  queueMs: number;
  workerWaitMs: number;
  executionMs: number;
  /** Run ended -> the orchestration's poll saw it (the polling overhead). */
  noticeMs: number;
  polls: number;
  /** The poll that saw it -> stage end (readJobManifest, the batch's finish and notify, the file's event). */
  afterNoticeMs: number;
}

export interface Breakdown {
  label: string;
  instanceId: string;
  rows: number;
  /** Drop -> the orchestration completed (its last update: after the audit record was written). */
  totalMs: number;
  /** Drop -> the audit record's endedAt. */
  auditEndedMs: number;
  /** Drop -> the instance was created (blob write, event delivery, starter). */
  startMs: number;
  /** Instance created -> first episode ran (the validate stage starts). */
  firstEpisodeMs: number;
  validateMs: number;
  silver: StepBreakdown;
  gold: StepBreakdown;
  /** Gold stage end -> completed: audit stage, writeAudit activity, last episode. */
  auditMs: number;
  pollingMs: number;
  /** Everything that is neither validation nor a Databricks run: total - validate - silver run - gold run. */
  orchestrationMs: number;
}

export function step(
  record: AuditRecord,
  name: 'silver' | 'gold',
  runs: Map<number, ListedRun>,
): StepBreakdown {
  const stage = record.stages.find((s) => s.stage === name);
  // A batch split on a data failure lists several runs of the step; the file's outcome is its last one.
  const run = record.databricksRuns.filter((r) => r.step === name).at(-1);
  const listed = typeof run?.runId === 'number' ? runs.get(run.runId) : undefined;
  if (!stage || !run?.endedAt || !listed) throw new Error(`${record.instanceId}: no ${name} stage or run`);
  return {
    runId: listed.runId,
    batchId: run.batch?.id ?? null,
    batchSize: run.batch?.size ?? 1,
    stageMs: stage.durationMs,
    submitMs: listed.createdMs - Date.parse(stage.startedAt),
    runMs: listed.endMs - listed.createdMs,
    queueMs: listed.queueMs,
    workerWaitMs: listed.setupMs,
    executionMs: listed.executionMs,
    noticeMs: Date.parse(run.endedAt) - listed.endMs,
    polls: run.polls,
    afterNoticeMs: Date.parse(stage.endedAt) - Date.parse(run.endedAt),
  };
}

export function breakdown(dropped: Dropped, record: AuditRecord, runs: Map<number, ListedRun>): Breakdown {
  const times = dropped.times!;
  const validate = record.stages.find((s) => s.stage === 'validate')!;
  const silver = step(record, 'silver', runs);
  const gold = step(record, 'gold', runs);
  const goldStage = record.stages.find((s) => s.stage === 'gold')!;
  const totalMs = times.lastUpdatedMs - dropped.dropMs;
  return {
    label: dropped.label,
    instanceId: dropped.instanceId,
    rows: record.validation?.counts.rowsValid ?? dropped.rows,
    totalMs,
    auditEndedMs: Date.parse(record.endedAt) - dropped.dropMs,
    startMs: times.createdMs - dropped.dropMs,
    firstEpisodeMs: Date.parse(validate.startedAt) - times.createdMs,
    validateMs: validate.durationMs,
    silver,
    gold,
    auditMs: times.lastUpdatedMs - Date.parse(goldStage.endedAt),
    pollingMs: silver.noticeMs + gold.noticeMs,
    orchestrationMs: totalMs - validate.durationMs - silver.runMs - gold.runMs,
  };
}

export function summarise(values: number[]): { median: number; p95: number; min: number; max: number } {
  return {
    median: round(median(values)),
    p95: round(p95(values)),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

export function latencySummary(rows: Breakdown[]): Record<string, unknown> {
  const of = (pick: (b: Breakdown) => number): ReturnType<typeof summarise> => summarise(rows.map(pick));
  return {
    reps: rows.length,
    totalMs: of((b) => b.totalMs),
    auditEndedMs: of((b) => b.auditEndedMs),
    startMs: of((b) => b.startMs),
    firstEpisodeMs: of((b) => b.firstEpisodeMs),
    validateMs: of((b) => b.validateMs),
    silverStageMs: of((b) => b.silver.stageMs),
    silverSubmitMs: of((b) => b.silver.submitMs),
    silverRunMs: of((b) => b.silver.runMs),
    silverExecutionMs: of((b) => b.silver.executionMs),
    silverNoticeMs: of((b) => b.silver.noticeMs),
    silverPolls: of((b) => b.silver.polls),
    goldStageMs: of((b) => b.gold.stageMs),
    goldSubmitMs: of((b) => b.gold.submitMs),
    goldRunMs: of((b) => b.gold.runMs),
    goldExecutionMs: of((b) => b.gold.executionMs),
    goldNoticeMs: of((b) => b.gold.noticeMs),
    goldPolls: of((b) => b.gold.polls),
    auditMs: of((b) => b.auditMs),
    pollingMs: of((b) => b.pollingMs),
    orchestrationMs: of((b) => b.orchestrationMs),
  };
}

export function printLatency(title: string, rows: Breakdown[]): void {
  const s = (values: number[]): string =>
    `${round(median(values) / 1000, 2)} / ${round(p95(values) / 1000, 2)}`;
  process.stdout.write(`\n${title} (${rows.length} reps; seconds, median / p95)\n`);
  process.stdout.write(
    '| total drop→completed | start | validate | silver stage (run, notice) | gold stage (run, notice) | audit | polling | orchestration |\n|---|---|---|---|---|---|---|---|\n',
  );
  process.stdout.write(
    `| ${s(rows.map((b) => b.totalMs))} | ${s(rows.map((b) => b.startMs + b.firstEpisodeMs))} | ${s(rows.map((b) => b.validateMs))} | ${s(rows.map((b) => b.silver.stageMs))} (${s(rows.map((b) => b.silver.runMs))}, ${s(rows.map((b) => b.silver.noticeMs))}) | ${s(rows.map((b) => b.gold.stageMs))} (${s(rows.map((b) => b.gold.runMs))}, ${s(rows.map((b) => b.gold.noticeMs))}) | ${s(rows.map((b) => b.auditMs))} | ${s(rows.map((b) => b.pollingMs))} | ${s(rows.map((b) => b.orchestrationMs))} |\n`,
  );
}
