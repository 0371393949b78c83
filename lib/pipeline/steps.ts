import type { DeltaCommit } from '../audit/record';
import { type SourceContractRegistry, UnknownSourceError } from '../contracts/sources';
import type { JobsApi, RunInfo } from '../databricks';
import { withTraceparent } from '../databricks/traceParameter';
import { LakewattError } from '../errors';
import { type LakeStore, NotFoundError, PreconditionFailedError } from '../lake';
import type { ValidationLimits } from '../validation/engine';
import type { ValidationReport } from '../validation/report';
import { bronzeStageRequest, stagingPrefix, validateAndStage } from '../validation/stage';
import type { IngestInput, PipelineStep } from './ingest';
import { parseVeeManifest, type VeeManifest } from './vee';

/**
 * The work behind each activity of `ingestFile`, free of the Functions runtime: the activities in
 * orchestrations/ only unpack their input and call these. Each one is safe to run twice.
 */

export interface StageOutcome {
  verdict: ValidationReport['verdict'];
  report: ValidationReport | null;
  /** File-level reasons when the engine never ran (no contract, the file version is gone). */
  reasons: Array<{ code: string; message: string }>;
  outputs: { staging: string | null; quarantine: string | null };
}

export interface StageDeps {
  lake: LakeStore;
  contracts: SourceContractRegistry;
  limits: ValidationLimits;
}

/** The file's landing time from its event (the late-data reference), else the staging time. */
function landedAt(eventTime: string | null, now: Date): Date {
  const ms = eventTime === null ? Number.NaN : Date.parse(eventTime);
  return Number.isNaN(ms) ? now : new Date(ms);
}

/** Validates the bronze file version named in the input and writes staging or quarantine. */
export async function stageFile(
  deps: StageDeps,
  params: { instanceId: string; input: IngestInput; now: Date },
): Promise<StageOutcome> {
  const { file } = params.input;
  const prefix = stagingPrefix(file.dataset, params.instanceId, params.input.generation);
  let contract;
  try {
    contract = deps.contracts.resolve(file.dataset, file.source);
  } catch (error) {
    if (!(error instanceof UnknownSourceError)) throw error;
    // No contract: nothing can be validated, so the whole file goes to quarantine with the reason.
    const copied = await quarantineOriginal(deps.lake, params.input, `${prefix}${file.fileName}`);
    return {
      verdict: 'rejected',
      report: null,
      reasons: [{ code: error.code, message: error.message }, ...(copied ? [] : [versionGone(params.input)])],
      outputs: { staging: null, quarantine: `quarantine/${prefix}` },
    };
  }
  let report: ValidationReport;
  try {
    report = await validateAndStage(
      deps.lake,
      bronzeStageRequest(deps.lake, {
        contract,
        instanceId: params.instanceId,
        generation: params.input.generation,
        now: params.now,
        landedAt: landedAt(file.eventTime, params.now),
        limits: deps.limits,
        path: file.path,
        etag: file.etag,
      }),
    );
  } catch (error) {
    if (error instanceof PreconditionFailedError || error instanceof NotFoundError) {
      // The version the event announced was overwritten or deleted before it was read: its successor has
      // its own event and orchestration; this one has nothing to process.
      return {
        verdict: 'rejected',
        report: null,
        reasons: [versionGone(params.input)],
        outputs: { staging: null, quarantine: null },
      };
    }
    throw error;
  }
  const rejected = report.verdict === 'rejected';
  return {
    verdict: report.verdict,
    report,
    reasons: report.reasons,
    outputs: {
      staging: rejected ? null : `staging/${prefix}`,
      quarantine: rejected || report.counts.rowsRejected > 0 ? `quarantine/${prefix}` : null,
    },
  };
}

function versionGone(input: IngestInput): { code: string; message: string } {
  return {
    code: 'FILE_VERSION_GONE',
    message: `bronze/${input.file.path} no longer has eTag ${input.file.etag} (overwritten or deleted)`,
  };
}

async function quarantineOriginal(lake: LakeStore, input: IngestInput, target: string): Promise<boolean> {
  try {
    await lake.copy(
      { container: 'bronze', path: input.file.path },
      { container: 'quarantine', path: target },
      { ifMatch: input.file.etag, overwrite: true },
    );
    return true;
  } catch (error) {
    if (error instanceof PreconditionFailedError || error instanceof NotFoundError) return false;
    throw error;
  }
}

export interface JobRunRequest {
  job: string;
  parameters: Record<string, string>;
  idempotencyToken: string;
  /** The trace the run joins, passed on as its `traceparent` job parameter (absent: none is passed). */
  traceparent?: string;
}

export interface StartedJobRun {
  runId: number;
}

/** Starts (or, for a token already used, finds) the run of a job. */
export async function startJobRun(jobs: JobsApi, request: JobRunRequest): Promise<StartedJobRun> {
  const jobId = await jobs.resolveJobId(request.job);
  const started = await jobs.runNow({
    jobId,
    jobParameters: withTraceparent(request.parameters, request.traceparent),
    idempotencyToken: request.idempotencyToken,
    queue: true,
  });
  return { runId: started.runId };
}

/** A run's state as the orchestration records it: plain JSON, small enough for the history. */
export interface JobRunState {
  runId: number;
  outcome: RunInfo['outcome']['kind'];
  terminal: boolean;
  reason: string;
  lifeCycleState: string | null;
  resultState: string | null;
  runPageUrl: string | null;
  startTime: number | null;
  endTime: number | null;
  /** The failing task's error message, fetched once the run failed. */
  error: string | null;
  /**
   * The run failed for a reason of the platform, not of the job or its data (INTERNAL_ERROR: the cluster or
   * the emulator's process was lost with the run; a run limit): a new run of the same step may succeed.
   * Absent in histories recorded before it existed, which reads as false.
   */
  retryable?: boolean;
}

export async function describeJobRun(jobs: JobsApi, runId: number): Promise<JobRunState> {
  const run = await jobs.getRun(runId);
  let error: string | null = null;
  if (run.outcome.terminal && run.outcome.kind !== 'Succeeded') {
    const failed = run.tasks.find((task) => task.outcome.kind !== 'Succeeded' && task.runId !== undefined);
    if (failed?.runId !== undefined) {
      const output = await jobs.getRunOutput(failed.runId).catch(() => undefined);
      error = output?.error?.split('\n')[0]?.slice(0, 500) ?? null;
    }
  }
  return {
    runId: run.runId,
    outcome: run.outcome.kind,
    terminal: run.outcome.terminal,
    reason: run.outcome.reason,
    lifeCycleState: run.outcome.raw.lifeCycleState ?? run.outcome.raw.statusState ?? null,
    resultState: run.outcome.raw.resultState ?? run.outcome.raw.terminationCode ?? null,
    runPageUrl: run.runPageUrl ?? null,
    startTime: run.startTime ?? null,
    endTime: run.endTime ?? null,
    error,
    retryable: run.outcome.retryable,
  };
}

/** Path of the manifest a job run writes: `audit/job-runs/{instanceId}/{generation}/{job}.json`. */
export function jobManifestPath(instanceId: string, generation: number, step: PipelineStep): string {
  return `job-runs/${instanceId}/${generation}/${step}.json`;
}

/**
 * What a job's run manifest says of its run: its Delta commits, the gold days its changes made stale, and
 * (silver of meter readings) its VEE summary.
 */
export interface JobManifestSummary {
  commits: DeltaCommit[];
  affectedDates: string[];
  /** Absent in manifests written before VEE and in those of other datasets and steps. */
  vee?: VeeManifest;
}

/** The summary of a job's run manifest, or null when the job wrote no manifest. */
export async function readJobManifest(
  lake: LakeStore,
  params: { instanceId: string; generation: number; step: PipelineStep },
): Promise<JobManifestSummary | null> {
  // For a shared run, `instanceId` and `generation` are those of the orchestration that started it.
  let text: string;
  try {
    const object = await lake.read(
      'audit',
      jobManifestPath(params.instanceId, params.generation, params.step),
    );
    text = object.data.toString('utf8');
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
  const manifest = JSON.parse(text) as { tables?: unknown; affectedDates?: unknown; vee?: unknown };
  if (!Array.isArray(manifest.tables)) {
    throw new LakewattError('MANIFEST_INVALID', `the ${params.step} run manifest has no tables list`);
  }
  // Absent in manifests written before it; anything else than a list of days is a job defect, not "no days".
  const affectedDates = manifest.affectedDates ?? [];
  if (
    !Array.isArray(affectedDates) ||
    !affectedDates.every((d): d is string => typeof d === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(d))
  ) {
    throw new LakewattError(
      'MANIFEST_INVALID',
      `the ${params.step} run manifest's affectedDates is not a list of YYYY-MM-DD days`,
    );
  }
  const commits = manifest.tables.map((entry: Record<string, unknown>) => ({
    table: String(entry.table),
    action: String(entry.action),
    version: typeof entry.version === 'number' ? entry.version : null,
    previousVersion: typeof entry.previousVersion === 'number' ? entry.previousVersion : null,
    operation: typeof entry.operation === 'string' ? entry.operation : null,
    operationMetrics: Object.fromEntries(
      Object.entries((entry.operationMetrics ?? {}) as Record<string, unknown>).map(([k, v]) => [
        k,
        String(v),
      ]),
    ),
  }));
  const vee = parseVeeManifest(manifest.vee, params.step);
  return vee ? { commits, affectedDates, vee } : { commits, affectedDates };
}
