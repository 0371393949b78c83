import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { readAuditRecord } from '../lib/audit/store';
import { landingPlace } from '../lib/events/blobCreated';
import { NotFoundError } from '../lib/lake';
import {
  bulkReplayCandidates,
  type BulkReplayResult,
  dryRunReplay,
  errorReply,
  ingestInputOf,
  instanceFilter,
  invalidRequest,
  pageRuns,
  parseBulkReplayRequest,
  parseInstanceId,
  parseJsonBody,
  parseListRunsQuery,
  parseReprocessRequest,
  refusalError,
  replayedRun,
  reprocessFile,
  runDetail,
  type RunFilter,
  RunsApiError,
  selectRuns,
  type StartOutcome,
  summarizeRun,
} from '../lib/pipeline/runsQuery';
import { services } from '../orchestrations/services';
import { findInstance, replayIngestion, reprocessIngestion } from '../orchestrations/starters';

/**
 * The operator API over ingestion runs: list, show, replay one, replay many, reprocess a file. Function
 * keys guard it in Azure; the local host serves loopback only. Parsing, filtering and paging live in
 * lib/pipeline/runsQuery.ts, start rules in orchestrations/starters.ts; every error is `{code, message}`.
 */

type Handler = (
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
) => Promise<HttpResponseInit>;

const BRONZE = 'bronze';

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit => ({
  status,
  jsonBody: body,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
});

function api(name: string, handler: Handler): Handler {
  return async (request, client, context) => {
    try {
      return await handler(request, client, context);
    } catch (error) {
      const reply = errorReply(error, context.invocationId);
      if (reply.status >= 500) context.error(`${name} failed:`, error);
      return json(reply.status, reply.body);
    }
  };
}

/** Every instance the durable backend holds for the filter, with inputs (dataset, source, file). */
async function instancesFor(
  client: df.DurableClient,
  filter: RunFilter,
): Promise<df.DurableOrchestrationStatus[]> {
  const { runtimeStatus, ...times } = instanceFilter(filter);
  const query: df.OrchestrationFilter & { showInput: boolean } = {
    ...times,
    ...(runtimeStatus ? { runtimeStatus: runtimeStatus as df.OrchestrationRuntimeStatus[] } : {}),
    showInput: true,
  };
  return client.getStatusBy(query);
}

function started(client: df.DurableClient, outcome: StartOutcome, trigger: string): HttpResponseInit {
  if (outcome.action !== 'started') throw refusalError(outcome);
  const { id, ...links } = client.createHttpManagementPayload(outcome.instanceId);
  return json(
    202,
    { instanceId: id, generation: outcome.generation, trigger, ...links },
    {
      location: links.statusQueryGetUri,
    },
  );
}

const listRuns: Handler = async (request, client) => {
  const query = parseListRunsQuery(request.query);
  return json(200, pageRuns(selectRuns(await instancesFor(client, query), query), query));
};

const showRun: Handler = async (request, client) => {
  const instanceId = parseInstanceId(request.params.id);
  const instance = await findInstance(client, instanceId);
  const run = instance && summarizeRun(instance);
  if (!instance || !run) throw new RunsApiError(404, 'RUN_NOT_FOUND', `no run with id ${instanceId}`);
  const input = ingestInputOf(instance);
  const audit = input
    ? await readAuditRecord(services().lake, instanceId, input.generation, input.requestedAt)
    : undefined;
  return json(200, { ...runDetail(instance, run), audit: audit ?? null });
};

const replayRun: Handler = async (request, client) => {
  const instanceId = parseInstanceId(request.params.id);
  return started(client, await replayIngestion(client, instanceId, services().config, new Date()), 'replay');
};

const replayRuns: Handler = async (request, client) => {
  const body = parseBulkReplayRequest(parseJsonBody(await request.text()));
  const { matched, candidates } = bulkReplayCandidates(await instancesFor(client, body), body);
  if (body.dryRun) return json(200, dryRunReplay(matched, candidates));
  const result: BulkReplayResult = { matched, replayed: [], refused: [], dryRun: false };
  const { config } = services();
  for (const { run } of candidates) {
    const outcome = await replayIngestion(client, run.instanceId, config, new Date());
    if (outcome.action === 'started') {
      result.replayed.push(replayedRun(run, outcome.generation));
    } else {
      const refusal = refusalError(outcome);
      result.refused.push({ instanceId: run.instanceId, code: refusal.code, message: refusal.message });
    }
  }
  return json(200, result);
};

const reprocess: Handler = async (request, client) => {
  const { path } = parseReprocessRequest(parseJsonBody(await request.text()));
  const place = landingPlace(BRONZE, path);
  if (place.kind === 'ignore') throw invalidRequest(`path: ${place.reason}: ${place.detail}`);
  const { config, lake } = services();
  let properties;
  try {
    properties = await lake.properties(BRONZE, path);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new RunsApiError(404, 'BLOB_NOT_FOUND', `no blob at ${BRONZE}/${path}`);
    }
    throw error;
  }
  const file = reprocessFile(BRONZE, path, place, properties);
  return started(client, await reprocessIngestion(client, file, config, new Date()), 'reprocess');
};

// Function-level keys in Azure; the local host serves them on loopback only.
const ROUTES = [
  { name: 'runsList', route: 'runs', method: 'GET', handler: listRuns },
  { name: 'runsReplayMany', route: 'runs/replay', method: 'POST', handler: replayRuns },
  { name: 'runsShow', route: 'runs/{id}', method: 'GET', handler: showRun },
  { name: 'runsReplay', route: 'runs/{id}/replay', method: 'POST', handler: replayRun },
  { name: 'filesReprocess', route: 'files/reprocess', method: 'POST', handler: reprocess },
] as const;

for (const { name, route, method, handler } of ROUTES) {
  df.app.client.http(name, { route, methods: [method], authLevel: 'function', handler: api(name, handler) });
}
