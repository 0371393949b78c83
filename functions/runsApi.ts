import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { readAuditRecord } from '../lib/audit/store';
import { landingPlace } from '../lib/events/blobCreated';
import { freshnessReport, parseFreshnessQuery } from '../lib/freshness/api';
import { NotFoundError } from '../lib/lake';
import { type Caller, callerOf } from '../lib/pipeline/caller';
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
  startedReply,
  type StartOutcome,
  summarizeRun,
} from '../lib/pipeline/runsQuery';
import { parseRejectedRowsQuery, readRejectedRows } from '../lib/pipeline/runsRejected';
import { services } from '../orchestrations/services';
import { findInstance, replayIngestion, reprocessIngestion } from '../orchestrations/starters';

/**
 * The operator API over runs (ingestions and price pulls): list, show, replay one, replay many,
 * reprocess a file. In Azure, App Service authentication (Entra ID) stands in front of it and every
 * route needs the operator app role (lib/pipeline/caller.ts); the local host serves loopback only.
 * Parsing, filtering and paging live in lib/pipeline/runs*.ts, start rules in orchestrations/starters.ts;
 * every error is `{code, message}`. Replies name only this API's routes, never the task hub's
 * management URLs (they carry its system key).
 */

type Handler = (request: HttpRequest, client: df.DurableClient, caller: Caller) => Promise<HttpResponseInit>;

const BRONZE = 'bronze';

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit => ({
  status,
  jsonBody: body,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
});

/** Set by App Service when its authentication (Easy Auth) is on; only then are its headers trustworthy. */
const easyAuthEnabled = (): boolean => process.env.WEBSITE_AUTH_ENABLED?.toLowerCase() === 'true';

function api(
  name: string,
  handler: Handler,
): (request: HttpRequest, client: df.DurableClient, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request, client, context) => {
    try {
      const caller = callerOf(request.headers, {
        mode: services().config.mode,
        easyAuthEnabled: easyAuthEnabled(),
      });
      return await handler(request, client, caller);
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

function started(outcome: StartOutcome, trigger: string): HttpResponseInit {
  if (outcome.action !== 'started') throw refusalError(outcome);
  const reply = startedReply(outcome.instanceId, outcome.generation, trigger);
  return json(202, reply, { location: reply.links.run });
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
  const input = run.kind === 'ingest' ? ingestInputOf(instance) : undefined;
  const audit = input
    ? await readAuditRecord(services().lake, instanceId, input.generation, input.requestedAt)
    : undefined;
  return json(200, { ...runDetail(instance, run), audit: audit ?? null });
};

const rejectedRows: Handler = async (request, client) => {
  const instanceId = parseInstanceId(request.params.id);
  const query = parseRejectedRowsQuery(request.query);
  const instance = await findInstance(client, instanceId);
  if (!instance) throw new RunsApiError(404, 'RUN_NOT_FOUND', `no run with id ${instanceId}`);
  return json(200, await readRejectedRows(services().lake, instance, query));
};

const replayRun: Handler = async (request, client, caller) => {
  const instanceId = parseInstanceId(request.params.id);
  const { config } = services();
  return started(await replayIngestion(client, instanceId, config, new Date(), 'replay', caller), 'replay');
};

const replayRuns: Handler = async (request, client, caller) => {
  const body = parseBulkReplayRequest(parseJsonBody(await request.text()));
  const { matched, candidates } = bulkReplayCandidates(await instancesFor(client, body), body);
  if (body.dryRun) return json(200, dryRunReplay(matched, candidates));
  const result: BulkReplayResult = { matched, replayed: [], refused: [], dryRun: false };
  const { config } = services();
  for (const { run } of candidates) {
    const outcome = await replayIngestion(client, run.instanceId, config, new Date(), 'replay', caller);
    if (outcome.action === 'started') {
      result.replayed.push(replayedRun(run, outcome.generation));
    } else {
      const refusal = refusalError(outcome);
      result.refused.push({ instanceId: run.instanceId, code: refusal.code, message: refusal.message });
    }
  }
  return json(200, result);
};

const reprocess: Handler = async (request, client, caller) => {
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
  return started(await reprocessIngestion(client, file, config, new Date(), caller), 'reprocess');
};

const freshness: Handler = async (request) => {
  const { config, lake } = services();
  const now = new Date();
  const query = parseFreshnessQuery(request.query, now, config.freshness.lookbackDays);
  return json(200, await freshnessReport({ lake, contracts: await services().contracts(), query, now }));
};

// Anonymous at the Functions level: Entra ID (Easy Auth, infra/modules/function-app.bicep) authenticates
// every /api call in front of the app and `callerOf` checks the operator role; a function key would only
// add a shared secret. The local host serves these routes on loopback only.
const ROUTES = [
  { name: 'runsList', route: 'runs', method: 'GET', handler: listRuns },
  { name: 'runsReplayMany', route: 'runs/replay', method: 'POST', handler: replayRuns },
  { name: 'runsShow', route: 'runs/{id}', method: 'GET', handler: showRun },
  { name: 'runsReplay', route: 'runs/{id}/replay', method: 'POST', handler: replayRun },
  { name: 'runsRejected', route: 'runs/{id}/rejected', method: 'GET', handler: rejectedRows },
  { name: 'filesReprocess', route: 'files/reprocess', method: 'POST', handler: reprocess },
  { name: 'freshnessShow', route: 'freshness', method: 'GET', handler: freshness },
] as const;

for (const { name, route, method, handler } of ROUTES) {
  df.app.client.http(name, { route, methods: [method], authLevel: 'anonymous', handler: api(name, handler) });
}
