import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { AzureMonitorOpenTelemetryOptions } from '@azure/monitor-opentelemetry';

import { loadConfig } from '../../../lib/config';
import { ConfigError } from '../../../lib/errors';
import {
  emitEvent,
  inSpan,
  startTelemetry,
  stopTelemetry,
  telemetry,
  type TelemetrySettings,
} from '../../../lib/telemetry';

// The distro stands in for Application Insights, which cannot be reached from here: a fake that records
// how it was started, and throws if anything loads it when it should not.
const distro = { started: [] as unknown[], allowed: false };
jest.mock('@azure/monitor-opentelemetry', () => ({
  useAzureMonitor: (options: unknown) => {
    if (!distro.allowed) throw new Error('the Azure Monitor distro was started');
    distro.started.push(options);
  },
  shutdownAzureMonitor: () => Promise.resolve(),
}));

const CONNECTION =
  'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-telemetry-'));
  distro.started = [];
  distro.allowed = false;
});
afterEach(async () => {
  await stopTelemetry();
  rmSync(dir, { recursive: true, force: true });
});

function settings(overrides: Partial<TelemetrySettings>): TelemetrySettings {
  return {
    exporter: 'off',
    file: path.join(dir, 'telemetry.jsonl'),
    samplingPercentage: 100,
    connectionString: undefined,
    clientId: undefined,
    ...overrides,
  };
}

describe('telemetry settings', () => {
  test('when nothing is set (the local default), then telemetry is off', () => {
    expect(loadConfig({}).telemetry).toMatchObject({ exporter: 'off', samplingPercentage: 100 });
  });

  test('when the Application Insights connection string is set, then auto means Azure Monitor', () => {
    const config = loadConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION });

    expect(config.telemetry).toMatchObject({ exporter: 'azure-monitor', connectionString: CONNECTION });
  });

  test('when azure-monitor is asked for without a connection string, then the error names both keys', () => {
    expect(() => loadConfig({ TELEMETRY_EXPORTER: 'azure-monitor' })).toThrow(ConfigError);
    expect(() => loadConfig({ TELEMETRY_EXPORTER: 'azure-monitor' })).toThrow(
      /TELEMETRY_EXPORTER: .*APPLICATIONINSIGHTS_CONNECTION_STRING/,
    );
  });

  test('when the file exporter is chosen, then its file defaults to the state folder’s logs', () => {
    const config = loadConfig({ TELEMETRY_EXPORTER: 'file', LAKEWATT_HOME: dir });

    expect(config.telemetry.file).toBe(path.join(dir, 'logs', 'telemetry.jsonl'));
  });

  test('when the sampling percentage is out of range, then the error names the key', () => {
    expect(() => loadConfig({ TELEMETRY_SAMPLING_PERCENTAGE: '150' })).toThrow(
      /TELEMETRY_SAMPLING_PERCENTAGE/,
    );
  });
});

describe('starting telemetry', () => {
  test('when telemetry is off, then the distro is never started', async () => {
    const runtime = await startTelemetry(settings({ exporter: 'off' }));

    expect(runtime.exporter).toBe('off');
    expect(distro.started).toEqual([]);
  });

  test('when the file exporter runs, then spans and events land in the file as JSON lines', async () => {
    await startTelemetry(settings({ exporter: 'file' }));
    await inSpan('ingest.start', { attributes: { dataset: 'prices' } }, () => Promise.resolve());
    emitEvent('IngestStarted', { instance_id: 'ingest-1', dataset: 'prices', source: 'dayahead' });

    const lines = readFileSync(path.join(dir, 'telemetry.jsonl'), 'utf8').trim().split('\n');
    const records = lines.map((line) => JSON.parse(line) as { kind: string; name: string });
    expect(records.map((r) => [r.kind, r.name])).toEqual([
      ['span', 'ingest.start'],
      ['event', 'IngestStarted'],
    ]);
    expect(distro.started).toEqual([]);
  });

  test('when Azure Monitor is chosen, then whole traces are sampled by percentage and events never are', async () => {
    distro.allowed = true;

    const runtime = await startTelemetry(
      settings({
        exporter: 'azure-monitor',
        connectionString: CONNECTION,
        samplingPercentage: 25,
        clientId: 'c1',
      }),
    );

    expect(runtime.exporter).toBe('azure-monitor');
    expect(distro.started).toHaveLength(1);
    const options = distro.started[0] as AzureMonitorOpenTelemetryOptions;
    expect(options.azureMonitorExporterOptions?.connectionString).toBe(CONNECTION);
    // The component accepts Entra ID only: the app's identity signs the exports.
    expect(options.azureMonitorExporterOptions?.credential).toBeDefined();
    expect([options.tracesPerSecond, options.samplingRatio, options.enableTraceBasedSamplingForLogs]).toEqual(
      [0, 0.25, false],
    );
    expect(options.instrumentationOptions?.console).toEqual({ enabled: false });
  });

  test('when telemetry is started twice, then the first start is the one that counts', async () => {
    const first = await startTelemetry(settings({ exporter: 'file' }));
    const second = await startTelemetry(settings({ exporter: 'console' }));

    expect(second).toBe(first);
    expect(telemetry().exporter).toBe('file');
  });
});
