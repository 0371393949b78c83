import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { buildBlobCreatedEvent, SequencerClock } from '../../../lib/events/blobCreatedEvent';
import { LocalLakeStore } from '../../../lib/lake';
import { JobsEmulator } from '../../../local/databricks/emulator';
import { ManualClock } from '../../../local/host/clock';
import { LocalHost } from '../../../local/host/host';
import type { LogRecord } from '../../../local/host/log';
import { clientFor, FIXTURE_BUNDLE } from '../databricks/support';

/**
 * A whole local pipeline for integration tests: a fresh temporary lake (LAKE_ROOT) and state folder
 * (LAKEWATT_HOME), a LocalHost on the app's real registration modules with a manual clock, and helpers
 * to land files in bronze, announce them through the Event Grid webhook, call `/api/...` routes and run
 * the host until it is idle. The jest project maps `@azure/functions-core` to the host's stand-in (see
 * docs/local-runtime.md "Testing with the host").
 */

const ROOT = path.resolve(__dirname, '../../..');

/** The modules of one file's ingestion: the Event Grid trigger, the orchestrator and its activities. */
export const PIPELINE_MODULES: readonly string[] = [
  path.join(ROOT, 'functions/bronzeBlobCreated.ts'),
  path.join(ROOT, 'orchestrations/ingestFile.ts'),
  path.join(ROOT, 'orchestrations/activities.ts'),
];

export const moduleFile = (relative: string): string => path.join(ROOT, relative);

export const PIPELINE_START = Date.UTC(2026, 0, 1, 0, 0, 0);
export const LAKE_CONTAINERS = ['bronze', 'staging', 'quarantine', 'silver', 'gold', 'audit'] as const;

export interface PipelineWorldOptions {
  /** Registration modules (default PIPELINE_MODULES). */
  modules?: readonly string[];
  /** Settings for the duration of the world (restored on close); LAKE_ROOT and LAKEWATT_HOME are set. */
  env?: Record<string, string>;
  /** Start of virtual time (default 2026-01-01T00:00:00Z). */
  start?: number;
  /** Fire timer triggers as the virtual clock passes their schedule (default false). */
  timers?: boolean;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface PipelineWorld {
  host: LocalHost;
  clock: ManualClock;
  /** State folder (LAKEWATT_HOME): durable.sqlite and the host lock. */
  home: string;
  lakeRoot: string;
  lake: LocalLakeStore;
  logs: LogRecord[];
  baseUrl: string;
  /** The host key of this start (function key of /api routes, system key of the webhooks). */
  key: string;
  /** Runs until idle, advancing the clock to each due timer until `untilMs` of virtual time passed. */
  run(untilMs?: number): Promise<void>;
  /** Writes a file into the bronze container; returns its eTag and size. */
  land(bronzePath: string, content: string | Buffer): Promise<{ etag: string; size: number }>;
  /** Delivers the BlobCreated event of the blob's current version to `bronzeBlobCreated`; returns the status. */
  /**
   * Delivers a BlobCreated event for the blob's current version, or for `version` (an earlier one, as a
   * delayed event would announce it).
   */
  announce(
    bronzePath: string,
    functionName?: string,
    version?: { etag: string; size: number },
  ): Promise<number>;
  /** `land` then `announce`, then runs the host until idle (timers not advanced). */
  drop(bronzePath: string, content: string | Buffer): Promise<{ etag: string; size: number }>;
  /** Calls the host over HTTP: `api('GET', '/api/runs?top=2')`; a JSON body is sent as JSON. */
  api<T = unknown>(method: string, route: string, body?: unknown): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/** Starts a world: call in `beforeAll` (it sets environment variables the modules read when they run). */
export async function startPipelineWorld(options: PipelineWorldOptions = {}): Promise<PipelineWorld> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-pipeline-'));
  const home = path.join(base, 'home');
  const lakeRoot = path.join(base, 'lake');
  await fs.mkdir(home, { recursive: true });
  const env: Record<string, string> = { LAKEWATT_HOME: home, LAKE_ROOT: lakeRoot, ...options.env };
  const saved = new Map(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);

  const lake = new LocalLakeStore({ root: lakeRoot });
  for (const container of LAKE_CONTAINERS) await lake.ensureContainer(container);

  const clock = new ManualClock(options.start ?? PIPELINE_START);
  const logs: LogRecord[] = [];
  let host: LocalHost;
  try {
    host = await LocalHost.start({
      home,
      port: 0,
      modules: options.modules ?? PIPELINE_MODULES,
      clock,
      logSink: (record) => logs.push(record),
      timers: options.timers ?? false,
    });
  } catch (error) {
    restore(saved);
    throw error;
  }
  const sequencers = new SequencerClock();

  const run = async (untilMs = 0): Promise<void> => {
    const limit = clock.now() + untilMs;
    await host.whenIdle();
    for (;;) {
      const due = host.store.nextDueAt();
      if (due === undefined || due > limit) break;
      clock.set(Math.max(due, clock.now()));
      await host.whenIdle();
    }
  };

  const land = async (
    bronzePath: string,
    content: string | Buffer,
  ): Promise<{ etag: string; size: number }> => {
    const written = await lake.overwrite('bronze', bronzePath, content, { contentType: 'text/csv' });
    return { etag: written.etag, size: Buffer.byteLength(content) };
  };

  const announce = async (
    bronzePath: string,
    functionName = 'bronzeBlobCreated',
    version?: { etag: string; size: number },
  ): Promise<number> => {
    const properties = await lake.properties('bronze', bronzePath);
    const event = buildBlobCreatedEvent({
      accountName: 'lakewattlocal',
      container: 'bronze',
      path: bronzePath,
      etag: version?.etag ?? properties.etag,
      contentLength: version?.size ?? properties.size,
      contentType: properties.contentType,
      sequencer: sequencers.next(),
      time: new Date(clock.now()),
    });
    const response = await fetch(
      `${host.baseUrl}/runtime/webhooks/eventgrid?functionName=${encodeURIComponent(functionName)}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'aeg-event-type': 'Notification',
          'x-functions-key': host.key,
        },
        body: JSON.stringify([event]),
      },
    );
    await response.arrayBuffer();
    return response.status;
  };

  const api = async <T>(method: string, route: string, body?: unknown): Promise<ApiResponse<T>> => {
    const response = await fetch(`${host.baseUrl}${route}`, {
      method,
      headers: {
        'x-functions-key': host.key,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text === '' ? undefined : JSON.parse(text)) as T,
    };
  };

  return {
    host,
    clock,
    home,
    lakeRoot,
    lake,
    logs,
    baseUrl: host.baseUrl,
    key: host.key,
    run,
    land,
    announce,
    drop: async (bronzePath, content) => {
      const landed = await land(bronzePath, content);
      const status = await announce(bronzePath);
      if (status !== 202) throw new Error(`the Event Grid webhook answered ${status} for ${bronzePath}`);
      await run();
      return landed;
    },
    api,
    close: async () => {
      await host.stop();
      restore(saved);
      await fs.rm(base, { recursive: true, force: true });
    },
  };
}

function restore(saved: Map<string, string | undefined>): void {
  for (const [key, value] of saved) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

/**
 * A Databricks workspace that refuses every request at once (403 PERMISSION_DENIED): the silver stage's
 * activities fail without the Jobs client's real-time retries, and the orchestration fails after its
 * durable retries (advance the clock with `run`). Set DATABRICKS_HOST to `url`.
 */
export async function refusingDatabricks(): Promise<{
  url: string;
  requests: string[];
  close(): Promise<void>;
}> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    req.resume();
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ error_code: 'PERMISSION_DENIED', message: 'this test workspace refuses every call' }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `landing/{dataset}/{source}/{yyyy}/{mm}/{dd}/{file}`. */
export function landingPath(dataset: string, source: string, day: string, file: string): string {
  return `landing/${dataset}/${source}/${day.replaceAll('-', '/')}/${file}`;
}

/** A valid `meter_readings` file of the `headend_utc` source (long CSV, UTC, kWh), one row per interval. */
export function headendCsv(meterId: string, day: string, intervals = 4): string {
  const lines = ['meter_id,interval_start_utc,interval_minutes,channel,kwh,quality_flag'];
  for (let i = 0; i < intervals; i++) {
    const start = new Date(Date.parse(`${day}T00:00:00Z`) + i * 30 * 60_000).toISOString();
    lines.push(`${meterId},${start.replace('.000Z', 'Z')},30,AI,${(0.25 + i / 100).toFixed(3)},A`);
  }
  return `${lines.join('\n')}\n`;
}

/** A `headend_utc` file whose header names none of the contract's columns: rejected as a whole. */
export function badHeaderCsv(): string {
  return 'meter,when,value\nM1,2025-10-26T00:00:00Z,1.0\n';
}

/** A pipeline world whose Databricks is the real Jobs API emulator on the fixture bundle (test/fixtures/bundle). */
export interface EmulatedWorld {
  world: PipelineWorld;
  emulator: JobsEmulator;
  /** A Jobs API client of the emulator with this start's token. */
  jobs: ReturnType<typeof clientFor>;
  close(): Promise<void>;
}

/** Starts the emulator, then a world on the runs API's modules that calls it (`env` adds settings). */
export async function startEmulatedWorld(env: Record<string, string>): Promise<EmulatedWorld> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-emulated-'));
  const token = `emulated-${randomUUID()}`;
  const emulator = await JobsEmulator.start({ bundleDir: FIXTURE_BUNDLE, home, token, port: 0, env: {} });
  let world: PipelineWorld;
  try {
    world = await startPipelineWorld({
      modules: [...PIPELINE_MODULES, moduleFile('functions/runsApi.ts')],
      env: { DATABRICKS_HOST: emulator.url, DATABRICKS_AUTH: 'static', DATABRICKS_TOKEN: token, ...env },
    });
  } catch (error) {
    await emulator.close();
    throw error;
  }
  return {
    world,
    emulator,
    jobs: clientFor(emulator.url, token),
    close: async () => {
      await world.close();
      await emulator.close();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}
