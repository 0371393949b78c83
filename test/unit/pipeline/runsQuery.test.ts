import { ingestInstanceId } from '../../../lib/events/blobCreated';
import type { IngestInput } from '../../../lib/pipeline/ingest';
import { priceInstanceId } from '../../../lib/pipeline/prices';
import {
  bulkReplayCandidates,
  dryRunReplay,
  errorReply,
  instanceFilter,
  type InstanceLike,
  matchesFilter,
  pageRuns,
  parseBulkReplayRequest,
  parseInstanceId,
  parseJsonBody,
  parseListRunsQuery,
  parseReprocessRequest,
  refusalError,
  reprocessFile,
  runDetail,
  RunsApiError,
  selectRuns,
  sinceTime,
  startedReply,
  summarizeRun,
} from '../../../lib/pipeline/runsQuery';

const T0 = Date.UTC(2026, 0, 1);

function input(overrides: Partial<IngestInput['file']> = {}, generation = 0): IngestInput {
  return {
    file: {
      container: 'bronze',
      path: `landing/meter_readings/headend_utc/2025/10/26/${overrides.fileName ?? 'a.csv'}`,
      etag: '0xABC',
      dataset: 'meter_readings',
      source: 'headend_utc',
      fileName: 'a.csv',
      size: 10,
      sequencer: null,
      eventId: 'e1',
      eventTime: null,
      ...overrides,
    },
    generation,
    requestedAt: '2026-01-02T03:04:05.000Z',
    trigger: 'event',
    policy: {
      pollMinSeconds: 5,
      pollMaxSeconds: 60,
      deadlineMinutes: 120,
      outageMinutes: 60,
      silverJob: 's',
      goldJob: 'g',
      batch: {
        maxFiles: 100,
        maxRows: 1000,
        maxBytes: 1000,
        waitMinutes: 60,
        lingerSeconds: 0,
        byDataset: {},
      },
    },
  };
}

function instance(id: string, minute: number, overrides: Partial<InstanceLike> = {}): InstanceLike {
  return {
    name: 'ingestFile',
    instanceId: id,
    runtimeStatus: 'Failed',
    input: input(),
    output: 'Orchestrator function failed: [JOB_FAILED] silver: boom',
    customStatus: {
      stage: 'failed',
      generation: 0,
      dataset: 'meter_readings',
      source: 'headend_utc',
      verdict: 'accepted',
    },
    createdTime: new Date(T0 + minute * 60_000),
    lastUpdatedTime: new Date(T0 + minute * 60_000 + 1000).toISOString(),
    ...overrides,
  };
}

const query = (text: string): URLSearchParams => new URLSearchParams(text);

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RunsApiError);
    expect((error as RunsApiError).status).toBe(400);
    expect((error as RunsApiError).code).toBe('INVALID_REQUEST');
    return (error as RunsApiError).message;
  }
  throw new Error('expected a 400');
}

describe('parseListRunsQuery', () => {
  it('when the query is empty, then top is 50 and there is no filter', () => {
    expect(parseListRunsQuery(query(''))).toEqual({ top: 50 });
  });

  it('when filters are given, then statuses and verdicts are lists in canonical case and times are dates', () => {
    const parsed = parseListRunsQuery(
      query(
        'runtimeStatus=failed, TERMINATED&runtimeStatus=Canceled&verdict=Rejected&dataset=customers&source=crm' +
          '&from=2026-01-01T00:00:00Z&to=2026-01-02T01:00:00%2B01:00&top=500&code=function-key',
      ),
    );

    expect(parsed).toEqual({
      runtimeStatus: ['Failed', 'Terminated', 'Canceled'],
      verdict: ['rejected'],
      dataset: 'customers',
      source: 'crm',
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-01-02T00:00:00Z'),
      top: 500,
    });
  });

  it.each([
    [
      'runtimeStatus=Runing',
      "runtimeStatus: 'Runing' is not a runtime status (one of Running, Completed, ContinuedAsNew, Failed, Canceled, Terminated, Pending, Suspended)",
    ],
    ['runtimeStatus=', 'runtimeStatus: expected at least one value'],
    ['verdict=ok', "verdict: 'ok' is not a verdict (one of accepted, accepted_with_rejections, rejected)"],
    [
      'dataset=weather',
      "dataset: 'weather' is not a dataset (one of meter_readings, customers, contracts, prices)",
    ],
    ['source=Not A Source', 'source: expected a source id (lowercase letters, digits, - and _)'],
    [
      'from=2026-13-01T00:00:00Z',
      "from: '2026-13-01T00:00:00Z' is not an ISO 8601 time with a zone, such as 2026-01-01T00:00:00Z",
    ],
    [
      'to=2026-01-01T00:00:00',
      "to: '2026-01-01T00:00:00' is not an ISO 8601 time with a zone, such as 2026-01-01T00:00:00Z",
    ],
    ['from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'from: must not be later than to'],
    ['top=0', 'top: must be at least 1'],
    ['top=501', 'top: must be at most 500'],
    ['top=ten', 'top: expected a whole number'],
    ['limit=5', 'limit: unknown parameter'],
    ['kind=weather', "kind: 'weather' is not a run kind (one of ingest, pricePull)"],
  ])('when the query is %s, then it is refused naming the field', (text, message) => {
    expect(messageOf(() => parseListRunsQuery(query(text)))).toBe(message);
  });

  it('when several fields are bad, then each is named once', () => {
    expect(messageOf(() => parseListRunsQuery(query('top=0&verdict=x,y')))).toBe(
      "verdict: 'x' is not a verdict (one of accepted, accepted_with_rejections, rejected); verdict: 'y' is not a verdict (one of accepted, accepted_with_rejections, rejected); top: must be at least 1",
    );
  });
});

describe('parseBulkReplayRequest', () => {
  it('when only max is given, then failed runs are the target and it is not a dry run', () => {
    expect(parseBulkReplayRequest({ max: 10 })).toEqual({
      runtimeStatus: ['Failed'],
      max: 10,
      dryRun: false,
      includeCompleted: false,
    });
  });

  it('when filters are given as arrays or comma lists, then both parse', () => {
    expect(
      parseBulkReplayRequest({
        runtimeStatus: ['Failed', 'terminated'],
        verdict: 'accepted,rejected',
        max: 1000,
        dryRun: true,
      }),
    ).toEqual({
      runtimeStatus: ['Failed', 'Terminated'],
      verdict: ['accepted', 'rejected'],
      max: 1000,
      dryRun: true,
      includeCompleted: false,
    });
  });

  it('when the filter selects Completed runs without includeCompleted, then it is refused with COMPLETED_REPLAY_NOT_CONFIRMED', () => {
    for (const runtimeStatus of ['Completed', 'failed,completed', ['Failed', 'Completed']]) {
      let refused: unknown;
      try {
        parseBulkReplayRequest({ max: 5, runtimeStatus, dryRun: true });
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(RunsApiError);
      expect([(refused as RunsApiError).status, (refused as RunsApiError).code]).toEqual([
        400,
        'COMPLETED_REPLAY_NOT_CONFIRMED',
      ]);
    }
  });

  it('when Completed runs are selected with includeCompleted true, then the request parses', () => {
    expect(
      parseBulkReplayRequest({ max: 5, runtimeStatus: 'Completed', includeCompleted: true }),
    ).toMatchObject({ runtimeStatus: ['Completed'], includeCompleted: true });
  });

  it.each([
    [{}, 'max: required'],
    [{ max: '10' }, 'max: expected a whole number'],
    [{ max: 2.5 }, 'max: expected a whole number'],
    [{ max: 0 }, 'max: must be at least 1'],
    [{ max: 1001 }, 'max: must be at most 1000'],
    [{ max: 1, dryRun: 'true' }, 'dryRun: expected true or false'],
    [{ max: 1, includeCompleted: 'yes' }, 'includeCompleted: expected true or false'],
    [{ max: 1, runtimeStatus: 5 }, 'runtimeStatus: expected a string or an array of strings'],
    [{ max: 1, to: 'soon' }, "to: 'soon' is not an ISO 8601 time with a zone, such as 2026-01-01T00:00:00Z"],
    [{ max: 1, top: 5 }, 'top: unknown field'],
    [null, 'body: expected a JSON object'],
    ['max=1', 'body: expected a JSON object'],
  ])('when the body is %j, then it is refused naming the field', (body, message) => {
    expect(messageOf(() => parseBulkReplayRequest(body))).toBe(message);
  });
});

describe('request bodies and ids', () => {
  it('when a reprocess body has a path, then it parses; otherwise the path is named', () => {
    expect(parseReprocessRequest({ path: 'landing/x' })).toEqual({ path: 'landing/x' });
    expect(messageOf(() => parseReprocessRequest({}))).toBe('path: required');
    expect(messageOf(() => parseReprocessRequest({ path: '' }))).toBe('path: required');
    expect(messageOf(() => parseReprocessRequest({ path: 'x', force: true }))).toBe('force: unknown field');
  });

  it('when a body is empty it is an empty object; when it is not JSON it is refused', () => {
    expect(parseJsonBody('  ')).toEqual({});
    expect(parseJsonBody('{"max":1}')).toEqual({ max: 1 });
    expect(messageOf(() => parseJsonBody('{max:1}'))).toBe('body: not valid JSON');
  });

  const HEX32 = '0123456789abcdef0123456789abcdef';

  it.each([
    `ingest-meter_readings-${HEX32}`,
    `ingest-customers-${HEX32}`,
    'prices-energy-charts-DE-LU-2026-01-02',
    'prices-entsoe-IT-NORTH-2025-12-31',
  ])('when the id is %s (a shape Lakewatt creates), then it is accepted as is', (id) => {
    expect(parseInstanceId(id)).toBe(id);
  });

  it('when the ids the starters generate are parsed, then they are accepted', () => {
    const file = { container: 'bronze', path: 'landing/prices/entsoe/2026/01/02/x.xml', etag: '0x1' };
    expect(parseInstanceId(ingestInstanceId({ ...file, dataset: 'prices' }))).toMatch(/^ingest-prices-/);
    expect(parseInstanceId(priceInstanceId('energy-charts', 'NL', '2026-01-02'))).toBe(
      'prices-energy-charts-NL-2026-01-02',
    );
  });

  it.each([
    ['a/b'],
    ['a\nb'],
    ['ingest-meter_readings-abc'],
    [`ingest-meter_readings-${HEX32.toUpperCase()}`],
    [`ingest-weather-${HEX32}`],
    [`ingest-meter_readings-${HEX32}\n`],
    [`ingest-meter_readings-${HEX32}0`],
    ['prices-nordpool-DE-LU-2026-01-02'],
    ['prices-entsoe-XX-2026-01-02'],
    ['prices-entsoe-NL-2026-1-2'],
    ['prices-entsoe-NL-2026-13-01'],
    ['..'],
    ['x'.repeat(300)],
    [''],
  ])('when the id is %j, then it is refused with 400 INVALID_INSTANCE_ID', (id) => {
    let refused: unknown;
    try {
      parseInstanceId(id);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(RunsApiError);
    expect([(refused as RunsApiError).status, (refused as RunsApiError).code]).toEqual([
      400,
      'INVALID_INSTANCE_ID',
    ]);
  });

  it('when the route has no id, then it is refused with 400 INVALID_INSTANCE_ID', () => {
    let refused: unknown;
    try {
      parseInstanceId(undefined);
    } catch (error) {
      refused = error;
    }
    expect((refused as RunsApiError).code).toBe('INVALID_INSTANCE_ID');
  });
});

describe('errorReply and refusalError', () => {
  it('when the error is an API error, then its status and {code, message} are answered', () => {
    expect(errorReply(new RunsApiError(409, 'RUN_ACTIVE', 'busy'))).toEqual({
      status: 409,
      body: { code: 'RUN_ACTIVE', message: 'busy' },
    });
  });

  it('when the error is anything else, then a 500 keeps its details out of the body', () => {
    const reply = errorReply(new Error('ECONNREFUSED 10.0.0.4:443 secret-host'), 'inv-1');

    expect(reply.status).toBe(500);
    expect(reply.body.code).toBe('INTERNAL');
    expect(reply.body.message).not.toContain('secret-host');
    expect(reply.body.message).toContain('inv-1');
  });

  it('when a start was refused or skipped, then the refusal maps to 404 or 409', () => {
    const base = { action: 'refused', instanceId: 'i' } as const;
    expect(refusalError({ ...base, code: 'RUN_NOT_FOUND', message: 'm' }).status).toBe(404);
    expect(refusalError({ ...base, code: 'RUN_ACTIVE', message: 'm' }).status).toBe(409);
    expect(refusalError({ ...base, code: 'RUN_INPUT_UNREADABLE', message: 'm' }).status).toBe(409);
    const skipped = refusalError({
      action: 'skipped',
      instanceId: 'i',
      reason: 'ALREADY_ACTIVE',
      detail: 'started concurrently',
    });
    expect([skipped.status, skipped.code]).toEqual([409, 'RUN_ACTIVE']);
  });
});

describe('summarizeRun', () => {
  it('when the instance is an ingestion, then the summary takes file fields from the input and stage from the custom status', () => {
    expect(summarizeRun(instance('i1', 0))).toEqual({
      kind: 'ingest',
      instanceId: 'i1',
      runtimeStatus: 'Failed',
      stage: 'failed',
      batch: null,
      verdict: 'accepted',
      generation: 0,
      dataset: 'meter_readings',
      source: 'headend_utc',
      path: 'landing/meter_readings/headend_utc/2025/10/26/a.csv',
      etag: '0xABC',
      createdTime: '2026-01-01T00:00:00.000Z',
      lastUpdatedTime: '2026-01-01T00:00:01.000Z',
      auditPath: 'audit/runs/2026/01/02/i1/0.json',
    });
  });

  it('when only the output has the verdict and audit path, then they come from it', () => {
    const run = summarizeRun(
      instance('i2', 0, {
        runtimeStatus: 'Completed',
        customStatus: null,
        output: { status: 'rejected', verdict: 'rejected', auditPath: 'audit/runs/x/0.json', runIds: [] },
      }),
    );
    expect(run).toMatchObject({ stage: null, verdict: 'rejected', auditPath: 'audit/runs/x/0.json' });
  });

  it('when the input is unreadable, then what the custom status knows is kept and the rest is null', () => {
    expect(summarizeRun(instance('i3', 0, { input: null }))).toMatchObject({
      generation: 0,
      dataset: 'meter_readings',
      source: 'headend_utc',
      path: null,
      etag: null,
      auditPath: null,
    });
  });

  it('when the orchestration is neither ingestFile nor pullPrices, then it is not a run', () => {
    expect(summarizeRun(instance('o1', 0, { name: 'someOtherOrchestration' }))).toBeUndefined();
  });

  const pull = (overrides: Partial<InstanceLike> = {}): InstanceLike => ({
    name: 'pullPrices',
    instanceId: 'prices-energy-charts-NL-2026-01-02',
    runtimeStatus: 'Completed',
    input: {
      provider: 'energy-charts',
      zone: 'NL',
      deliveryDay: '2026-01-02',
      requestedAt: '2026-01-01T13:15:00.000Z',
      retryMinutes: 15,
      giveUpAt: '2026-01-01T23:15:00.000Z',
    },
    output: {
      path: 'bronze/landing/prices/energy-charts/2026/01/02/NL_2026-01-02.json',
      etag: '0xP1',
      ingestInstanceId: 'ingest-prices-0123456789abcdef0123456789abcdef',
      asks: 2,
    },
    customStatus: { stage: 'landed', asks: 2 },
    createdTime: new Date(T0),
    lastUpdatedTime: new Date(T0 + 1000),
    ...overrides,
  });

  it('when the instance is a price pull, then it is a run of kind pricePull with the landed file', () => {
    expect(summarizeRun(pull())).toEqual({
      kind: 'pricePull',
      instanceId: 'prices-energy-charts-NL-2026-01-02',
      runtimeStatus: 'Completed',
      stage: 'landed',
      batch: null,
      verdict: null,
      generation: null,
      dataset: 'prices',
      source: 'energy-charts',
      path: 'landing/prices/energy-charts/2026/01/02/NL_2026-01-02.json',
      etag: '0xP1',
      createdTime: '2026-01-01T00:00:00.000Z',
      lastUpdatedTime: '2026-01-01T00:00:01.000Z',
      auditPath: null,
    });
  });

  it('when a price pull is detailed, then it names its request and the ingestion its file started', () => {
    const inst = pull();
    expect(runDetail(inst, summarizeRun(inst)!)).toMatchObject({
      trigger: 'timer',
      requestedAt: '2026-01-01T13:15:00.000Z',
      requestedBy: null,
      pull: {
        provider: 'energy-charts',
        zone: 'NL',
        deliveryDay: '2026-01-02',
        ingestInstanceId: 'ingest-prices-0123456789abcdef0123456789abcdef',
      },
    });
  });

  it('when a price pull failed before landing, then it is listed with no file', () => {
    const failed = pull({
      runtimeStatus: 'Failed',
      output: 'Orchestrator function failed: [PRICES_NOT_PUBLISHED] x',
    });
    expect(summarizeRun(failed)).toMatchObject({ kind: 'pricePull', runtimeStatus: 'Failed', path: null });
  });

  it('when runs are filtered by kind, then only that kind is selected', () => {
    const both = [instance('i5', 0), pull()];
    expect(selectRuns(both, { kind: 'pricePull' }).map((r) => r.instanceId)).toEqual([
      'prices-energy-charts-NL-2026-01-02',
    ]);
    expect(selectRuns(both, { kind: 'ingest' }).map((r) => r.instanceId)).toEqual(['i5']);
  });

  it('when a replay recorded its requester, then the detail names them', () => {
    const requestedBy = {
      kind: 'entra' as const,
      id: '00000000-0000-0000-0000-000000000001',
      name: 'ops@example.com',
    };
    const inst = instance('i6', 0, { input: { ...input(), trigger: 'replay', requestedBy } });
    expect(runDetail(inst, summarizeRun(inst)!).requestedBy).toEqual(requestedBy);
  });

  it('when a failed run is detailed, then the first line of its failure is the error', () => {
    const inst = instance('i4', 0, { output: 'first line\nstack' });
    expect(runDetail(inst, summarizeRun(inst)!)).toMatchObject({
      trigger: 'event',
      requestedAt: '2026-01-02T03:04:05.000Z',
      error: 'first line',
    });
  });
});

describe('filters and paging', () => {
  const instances = [
    instance('a', 0),
    instance('b', 1, {
      runtimeStatus: 'Completed',
      customStatus: { stage: 'rejected', verdict: 'rejected' },
    }),
    instance('c', 2, { input: input({ dataset: 'customers', source: 'crm', fileName: 'c.csv' }) }),
    instance('d', 3, { runtimeStatus: 'Running', customStatus: { stage: 'silver', verdict: 'accepted' } }),
    instance('e', 3),
    instance('x', 4, { name: 'someOtherOrchestration' }),
  ];

  it('when runs are selected, then other orchestrations are left out and the order is newest first, then by id', () => {
    expect(selectRuns(instances, {}).map((r) => r.instanceId)).toEqual(['d', 'e', 'c', 'b', 'a']);
  });

  it('when a filter is given, then every condition must hold', () => {
    const run = summarizeRun(instances[2]!)!;
    expect(matchesFilter(run, { dataset: 'customers', source: 'crm', runtimeStatus: ['Failed'] })).toBe(true);
    expect(matchesFilter(run, { dataset: 'customers', source: 'other' })).toBe(false);
    expect(matchesFilter(run, { verdict: ['rejected'] })).toBe(false);
    expect(matchesFilter(run, { from: new Date(T0 + 2 * 60_000), to: new Date(T0 + 2 * 60_000) })).toBe(true);
    expect(matchesFilter(run, { from: new Date(T0 + 2 * 60_000 + 1) })).toBe(false);
    expect(matchesFilter({ ...run, verdict: null }, { verdict: ['accepted'] })).toBe(false);
  });

  it('when the filter has statuses and times, then they are what the durable client filters on', () => {
    const from = new Date(T0);
    expect(instanceFilter({ runtimeStatus: ['Failed'], from, dataset: 'prices' })).toEqual({
      runtimeStatus: ['Failed'],
      createdTimeFrom: from,
    });
  });

  it('when paged two at a time, then the tokens lead through every run once', () => {
    const runs = selectRuns(instances, {});
    const first = pageRuns(runs, { top: 2 });
    const second = pageRuns(runs, { top: 2, continuationToken: first.continuationToken! });
    const third = pageRuns(runs, { top: 2, continuationToken: second.continuationToken! });

    expect([first, second, third].map((p) => p.runs.map((r) => r.instanceId))).toEqual([
      ['d', 'e'],
      ['c', 'b'],
      ['a'],
    ]);
    expect(third.continuationToken).toBeNull();
  });

  it('when a newer run starts between two pages, then the next page neither repeats nor skips a run', () => {
    const first = pageRuns(selectRuns(instances, {}), { top: 2 });
    const later = selectRuns([...instances, instance('new', 9)], {});

    expect(
      pageRuns(later, { top: 2, continuationToken: first.continuationToken! }).runs.map((r) => r.instanceId),
    ).toEqual(['c', 'b']);
  });

  it('when a token comes from another filter or is not a token, then it is refused', () => {
    const token = pageRuns(selectRuns(instances, {}), { top: 1 }).continuationToken!;

    expect(messageOf(() => pageRuns([], { top: 1, dataset: 'customers', continuationToken: token }))).toBe(
      'continuationToken: issued for a different filter; repeat the same filters',
    );
    expect(messageOf(() => pageRuns([], { top: 1, continuationToken: 'bm90IGpzb24' }))).toBe(
      'continuationToken: not a token this API issued',
    );
  });
});

describe('bulk replay planning', () => {
  const instances = [
    instance('old', 0),
    instance('mid', 1, { runtimeStatus: 'Running' }),
    instance('new', 2, { input: input({}, 3) }),
    instance('broken', 3, { input: { file: 'nope', generation: 1 } }),
  ];

  it('when more runs match than max, then the oldest max are the candidates', () => {
    const request = parseBulkReplayRequest({ max: 2, runtimeStatus: ['Failed', 'Running'] });
    const { matched, candidates } = bulkReplayCandidates(instances, request);

    expect(matched).toBe(4);
    expect(candidates.map((c) => c.run.instanceId)).toEqual(['old', 'mid']);
  });

  it('when it is a dry run, then failed runs would start their next generation and active or unreadable ones are refused', () => {
    const request = parseBulkReplayRequest({ max: 10, runtimeStatus: ['Failed', 'Running'], dryRun: true });
    const { matched, candidates } = bulkReplayCandidates(instances, request);

    const result = dryRunReplay(matched, candidates);
    expect(result.replayed.map((r) => [r.instanceId, r.generation])).toEqual([
      ['old', 1],
      ['new', 4],
    ]);
    expect(result.refused.map((r) => [r.instanceId, r.code])).toEqual([
      ['mid', 'RUN_ACTIVE'],
      ['broken', 'RUN_INPUT_UNREADABLE'],
    ]);
    expect(result).toMatchObject({ matched: 4, dryRun: true });
  });

  it('when failed price pulls match the filter, then a bulk replay leaves them out', () => {
    const failedPull: InstanceLike = {
      name: 'pullPrices',
      instanceId: 'prices-entsoe-NL-2026-01-02',
      runtimeStatus: 'Failed',
      input: null,
      createdTime: new Date(T0),
      lastUpdatedTime: new Date(T0),
    };
    const request = parseBulkReplayRequest({ max: 10 });

    const { matched, candidates } = bulkReplayCandidates([instance('old', 0), failedPull], request);

    expect([matched, candidates.map((c) => c.run.instanceId)]).toEqual([1, ['old']]);
  });
});

describe('startedReply', () => {
  it('when a run was started, then the reply links only to this API, never to task hub URLs or keys', () => {
    const reply = startedReply('ingest-prices-0123456789abcdef0123456789abcdef', 2, 'replay');

    expect(reply).toEqual({
      instanceId: 'ingest-prices-0123456789abcdef0123456789abcdef',
      generation: 2,
      trigger: 'replay',
      links: {
        run: '/api/runs/ingest-prices-0123456789abcdef0123456789abcdef',
        replay: '/api/runs/ingest-prices-0123456789abcdef0123456789abcdef/replay',
      },
    });
  });
});

describe('reprocessFile and sinceTime', () => {
  it('when a landing blob is reprocessed, then its ingest file has the current eTag and no event fields', () => {
    const place = {
      kind: 'landing',
      dataset: 'prices',
      source: 'dayahead',
      landingDate: '2025-10-26',
      fileName: 'p.csv',
    } as const;

    expect(
      reprocessFile('bronze', 'landing/prices/dayahead/2025/10/26/p.csv', place, { etag: '0x1', size: 7 }),
    ).toEqual({
      container: 'bronze',
      path: 'landing/prices/dayahead/2025/10/26/p.csv',
      etag: '0x1',
      dataset: 'prices',
      source: 'dayahead',
      fileName: 'p.csv',
      size: 7,
      sequencer: null,
      eventId: null,
      eventTime: null,
    });
  });

  it('when --since is a duration or an ISO time, then it becomes a time; otherwise undefined', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    expect(sinceTime('2h', now)).toEqual(new Date('2026-01-01T10:00:00Z'));
    expect(sinceTime('90s', now)).toEqual(new Date('2026-01-01T11:58:30Z'));
    expect(sinceTime('1w', now)).toEqual(new Date('2025-12-25T12:00:00Z'));
    expect(sinceTime('2025-12-31T00:00:00Z', now)).toEqual(new Date('2025-12-31T00:00:00Z'));
    expect(sinceTime('yesterday', now)).toBeUndefined();
    expect(sinceTime('2h ago', now)).toBeUndefined();
  });
});

describe('a file waiting in a batch', () => {
  it('when its custom status names the batch it is in, then the summary says so', () => {
    const run = summarizeRun(
      instance('w', 1, {
        runtimeStatus: 'Running',
        customStatus: { stage: 'silver', batch: 'batch-silver.meter_readings-abc-000004' },
      }),
    );
    expect(run?.batch).toEqual({ in: 'batch-silver.meter_readings-abc-000004' });
  });

  it('when its custom status names the batch it waits behind, then the summary says so', () => {
    const run = summarizeRun(
      instance('w', 1, {
        runtimeStatus: 'Running',
        customStatus: { stage: 'gold', waitingBehind: 'batch-gold-abc-000002' },
      }),
    );
    expect(run?.batch).toEqual({ behind: 'batch-gold-abc-000002' });
  });
});
