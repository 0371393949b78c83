import * as df from 'durable-functions';

import { type AuditRecord, writeAuditRecord } from '../lib/audit';
import { ensureError, LakewattError } from '../lib/errors';
import { ingestInputSchema, type PipelineStep } from '../lib/pipeline/ingest';
import {
  describeJobRun,
  type JobRunRequest,
  readJobManifest,
  stageFile,
  startJobRun,
} from '../lib/pipeline/steps';
import { services } from './services';

/**
 * The activities of `ingestFile`: thin wrappers that unpack their input and call lib/pipeline. A
 * thrown error's message starts with its code in brackets (`[CODE] message`), the only part of an
 * error that survives the trip through the orchestration history.
 */

async function coded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const failure = ensureError(error);
    const code = failure instanceof LakewattError ? failure.code : failure.name || 'ERROR';
    throw new Error(`[${code}] ${failure.message}`, { cause: failure });
  }
}

export const validateAndStageActivity = df.app.activity('validateAndStage', {
  handler: (input: { instanceId: string; input: unknown }) =>
    coded(async () => {
      const app = services();
      return stageFile(
        { lake: app.lake, contracts: await app.contracts(), limits: app.config.validation },
        { instanceId: input.instanceId, input: ingestInputSchema.parse(input.input), now: new Date() },
      );
    }),
});

export const startJobRunActivity = df.app.activity('startJobRun', {
  handler: (request: JobRunRequest) => coded(() => startJobRun(services().jobs(), request)),
});

export const getJobRunActivity = df.app.activity('getJobRun', {
  handler: (input: { runId: number }) => coded(() => describeJobRun(services().jobs(), input.runId)),
});

export const cancelJobRunActivity = df.app.activity('cancelJobRun', {
  handler: (input: { runId: number }) => coded(() => services().jobs().cancelRun(input.runId)),
});

// Registered as 'readJobCommits' (its name before it also read affectedDates): histories name it so.
export const readJobManifestActivity = df.app.activity('readJobCommits', {
  handler: (input: { instanceId: string; generation: number; step: PipelineStep }) =>
    coded(() => readJobManifest(services().lake, input)),
});

export const writeAuditActivity = df.app.activity('writeAudit', {
  handler: (record: AuditRecord) => coded(() => writeAuditRecord(services().lake, record)),
});
