import type * as df from 'durable-functions';

import { loadConfig } from '../../../lib/config';
import type { IngestInput } from '../../../lib/pipeline/ingest';
import {
  installTelemetry,
  memoryTelemetry,
  parseTraceparent,
  type RecordedEvent,
  type RecordedSpan,
} from '../../../lib/telemetry';
import { jobPolicy, replayIngestion, startIngestionForEvent } from '../../../orchestrations/starters';

const config = loadConfig({});
const FILE: IngestInput['file'] = {
  container: 'bronze',
  path: 'landing/prices/dayahead/2026/01/01/a.csv',
  etag: '"0x8D1"',
  dataset: 'prices',
  source: 'dayahead',
  fileName: 'a.csv',
  size: 10,
  sequencer: null,
  eventId: 'e-1',
  eventTime: '2026-01-01T00:00:00Z',
};
const EARLIER_TRACE = '00-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-e1e1e1e1e1e1e1e1-01';

/** A fake durable client (the Durable Task extension cannot run here): one instance, and what was started. */
function fakeClient(existing?: { runtimeStatus: string; input: unknown }): df.DurableClient & {
  started: Array<{ name: string; input: IngestInput }>;
} {
  const started: Array<{ name: string; input: IngestInput }> = [];
  const client = {
    started,
    getStatus: () =>
      existing ? Promise.resolve(existing) : Promise.reject(new Error('Request failed with status code 404')),
    startNew: (name: string, options: { input: IngestInput }) => {
      started.push({ name, input: options.input });
      return Promise.resolve('id');
    },
  };
  return client as unknown as df.DurableClient & typeof client;
}

let memory: ReturnType<typeof memoryTelemetry>;
let restore: () => void;
beforeEach(() => {
  memory = memoryTelemetry();
  restore = installTelemetry(memory);
});
afterEach(() => restore());

const spans = (): RecordedSpan[] => memory.records.filter((r): r is RecordedSpan => r.kind === 'span');

describe('the starter makes the file’s trace', () => {
  test('when an event starts a run, then its input carries the traceparent of the start span, the root of its trace', async () => {
    const client = fakeClient();

    await startIngestionForEvent(client, FILE, config, new Date('2026-01-01T00:01:00Z'));

    const traceparent = client.started[0]!.input.traceparent!;
    const root = spans()[0]!;
    expect(root).toMatchObject({ name: 'ingest.start', parentSpanId: null });
    expect(root.attributes).toMatchObject({ dataset: 'prices', source: 'dayahead', trigger: 'event' });
    expect(parseTraceparent(traceparent)).toMatchObject({ traceId: root.traceId, spanId: root.spanId });
    const started = memory.records.filter((r): r is RecordedEvent => r.kind === 'event');
    expect(started.map((e) => [e.name, e.traceId])).toEqual([['IngestStarted', root.traceId]]);
  });

  test('when a failed run is replayed, then the new generation gets a trace of its own, linked to the earlier one', async () => {
    const earlier: IngestInput = {
      file: FILE,
      generation: 0,
      requestedAt: '2026-01-01T00:01:00.000Z',
      trigger: 'event',
      policy: jobPolicy(config),
      traceparent: EARLIER_TRACE,
    };
    const client = fakeClient({ runtimeStatus: 'Failed', input: earlier });

    await replayIngestion(client, 'ingest-prices-1', config, new Date('2026-01-02T00:00:00Z'));

    const replay = client.started[0]!.input;
    expect(replay.generation).toBe(1);
    expect(parseTraceparent(replay.traceparent!)!.traceId).not.toBe('e'.repeat(32));
    expect(spans()[0]!.links).toEqual([{ traceId: 'e'.repeat(32), spanId: 'e1'.repeat(8) }]);
  });
});
