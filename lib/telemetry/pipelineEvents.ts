import type { AuditRecord, DatabricksRunRecord } from '../audit/record';
import { emitEvent } from './events';
import { type EventDimensions, type SpanAttributesOf, SPANS } from './names';
import { recordSpan, SpanKind } from './tracing';

/**
 * The dimensions of the pipeline's own events, derived from the records it already keeps (the audit record,
 * a Databricks run record), so an event says nothing the audit trail does not.
 */

/** IngestRunEnded: one file's run as its audit record states it. */
export function ingestRunEnded(record: AuditRecord): EventDimensions<'IngestRunEnded'> {
  const counts = record.validation?.counts;
  return {
    instance_id: record.instanceId,
    generation: record.generation,
    dataset: record.sourceContract.dataset,
    source: record.sourceContract.source,
    verdict: record.verdict ?? 'none',
    status: record.status,
    trigger: record.trigger,
    error_code: record.error?.code ?? null,
    error_stage: record.error?.stage ?? null,
    rows_read: counts?.rowsRead ?? 0,
    rows_rejected: counts?.rowsRejected ?? 0,
    duration_ms: Math.max(0, Date.parse(record.endedAt) - Date.parse(record.startedAt)),
  };
}

/** DatabricksRunEnded: one run of a batch, once it ended (a run never submitted has no id and no event). */
export function databricksRunEnded(
  run: DatabricksRunRecord,
): EventDimensions<'DatabricksRunEnded'> | undefined {
  if (run.runId === null || run.endedAt === null) return undefined;
  return {
    run_id: run.runId,
    job: run.job,
    step: run.step,
    queue: run.batch?.queue ?? null,
    outcome: run.outcome ?? 'Unknown',
    duration_ms: run.durationMs ?? Math.max(0, Date.parse(run.endedAt) - Date.parse(run.submittedAt)),
    batch_id: run.batch?.id ?? null,
    batch_size: run.batch?.size ?? null,
    polls: run.polls,
  };
}

/** A file of a batch, as its batch's report names it. */
export interface BatchFileTrace {
  instanceId: string;
  traceparent?: string | undefined;
}

/**
 * What a batch's runs leave in telemetry once the batch reports: one `DatabricksRunEnded` event per run, and
 * in the trace of each file the run was for, a `databricks.run` span from its submit to its end. The event
 * belongs to the trace of the run's first file, the one its `traceparent` job parameter names.
 */
export function recordBatchRuns(
  files: readonly BatchFileTrace[],
  runs: readonly DatabricksRunRecord[],
): void {
  const traceOf = new Map(files.map((file) => [file.instanceId, file.traceparent]));
  for (const run of runs) {
    const event = databricksRunEnded(run);
    if (!event || run.endedAt === null) continue;
    const members = run.batch?.members ?? [];
    const first = members.map((id) => traceOf.get(id)).find((traceparent) => traceparent !== undefined);
    emitEvent('DatabricksRunEnded', event, {
      traceparent: first,
      severity: run.outcome === 'Succeeded' ? 'info' : 'warn',
    });
    const attributes: SpanAttributesOf = {
      run_id: event.run_id as number,
      job: run.job,
      step: run.step,
      outcome: String(event.outcome),
      duration_ms: Number(event.duration_ms),
      ...(run.batch ? { batch_id: run.batch.id, batch_size: run.batch.size, queue: run.batch.queue } : {}),
      ...(run.runPageUrl ? { run_page_url: run.runPageUrl } : {}),
    };
    for (const member of members) {
      recordSpan(SPANS.databricksRun, {
        parent: traceOf.get(member),
        kind: SpanKind.CLIENT,
        start: new Date(run.submittedAt),
        end: new Date(run.endedAt),
        ok: run.outcome === 'Succeeded',
        attributes: { ...attributes, instance_id: member },
      });
    }
  }
}
