import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadConfig } from '../../../lib/config';
import { ConfigError } from '../../../lib/errors';
import { LocalRuntime } from '../../../local/runtime';
import { clientFor, FIXTURE_BUNDLE, taskRunId, waitForRun } from '../databricks/support';

// A newcomer's `lakewatt dev`: no PII_HASH_KEY anywhere. The runtime must make a development key once, keep
// it under LAKEWATT_HOME, and hand it to the Jobs emulator's tasks (the silver job's PII masking needs it).

const ROOT = path.resolve(__dirname, '../../..');
const FIXTURE_APP = path.join(ROOT, 'test/fixtures/durable-app/app.ts');
const TOUCHED = [
  'PII_HASH_KEY',
  'LAKEWATT_HOME',
  'DATABRICKS_HOST',
  'DATABRICKS_AUTH',
  'DATABRICKS_TOKEN',
  'JOB_POLL_MIN_SECONDS',
];
const saved = new Map(TOUCHED.map((key) => [key, process.env[key]]));

let home: string;
const lines: string[] = [];

async function start(env: Record<string, string> = {}): Promise<LocalRuntime> {
  return LocalRuntime.start({
    config: loadConfig({ LAKEWATT_HOME: home, ...env }),
    port: 0,
    appRoot: ROOT,
    modules: [FIXTURE_APP],
    jobs: { port: 0, bundleDir: FIXTURE_BUNDLE },
    watch: false,
    timers: false,
    logSink: () => undefined,
    log: (line) => lines.push(line),
  });
}

const keyFile = (): string => path.join(home, 'secrets', 'pii-hash-key');
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-piikey-'));
  lines.length = 0;
  delete process.env.PII_HASH_KEY;
  process.env.LAKEWATT_HOME = home;
});

afterEach(() => {
  for (const [key, value] of saved) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(home, { recursive: true, force: true });
});

describe('the development PII key of a local runtime', () => {
  it('when a runtime starts without PII_HASH_KEY, then a key is made once in a 0700 secrets folder with mode 0600 and its use is logged', async () => {
    const runtime = await start();
    await runtime.stop();

    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(keyFile())).mode & 0o777).toBe(0o700);
    expect(readFileSync(keyFile(), 'utf8').trim().length).toBeGreaterThanOrEqual(16);
    expect(lines.filter((line) => line.includes('development key'))).toEqual([
      expect.stringContaining('(made now)') as string,
    ]);
  });

  it('when the runtime starts again on the same folder, then it keeps the same key', async () => {
    await (await start()).stop();
    const first = readFileSync(keyFile(), 'utf8');
    await (await start()).stop();

    expect(readFileSync(keyFile(), 'utf8')).toBe(first);
    expect(lines.filter((line) => line.includes('(made now)'))).toHaveLength(1);
  });

  it('when PII_HASH_KEY is set, then no development key is made', async () => {
    await (await start({ PII_HASH_KEY: 'an-operator-chosen-key' })).stop();

    expect(() => statSync(keyFile())).toThrow(/ENOENT/);
  });

  it('when a Jobs task runs, then it is handed the development key in its environment', async () => {
    const runtime = await start();
    try {
      const client = clientFor(runtime.emulator!.url, runtime.emulator!.token);
      const { runId } = await client.runJob('fixture-pii-env', {});
      const run = await waitForRun(client, runId, undefined, 180_000);
      const output = await client.getRunOutput(taskRunId(run, 'show'));

      expect(run.outcome.kind).toBe('Succeeded');
      expect(output.logs).toContain(`PII_KEY_SHA256 ${sha256(readFileSync(keyFile(), 'utf8').trim())}`);
    } finally {
      await runtime.stop();
    }
  }, 240_000);
});

describe('the start-up check of a local runtime', () => {
  it('when a setting the activities read is invalid, then the runtime does not start and the error names the key', async () => {
    process.env.JOB_POLL_MIN_SECONDS = 'soon';

    await expect(start()).rejects.toThrow(/JOB_POLL_MIN_SECONDS/);
  });

  it('when the source contracts folder cannot be read, then the runtime does not start and the error names SOURCE_CONTRACTS_DIR', async () => {
    const failure = start({ SOURCE_CONTRACTS_DIR: path.join(home, 'no-such-folder') });

    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(/^Invalid configuration: SOURCE_CONTRACTS_DIR: /);
  });
});
