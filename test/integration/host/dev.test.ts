import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { withRuntime } from '../../../local/cli/dev';
import { LOCK_FILE } from '../../../local/host/host';
import { readLocalSecret } from '../../../local/security/secrets';

const ROOT = path.resolve(__dirname, '../../..');
let home: string;
let dev: ChildProcess;
let baseUrl: string;
let jobsUrl: string;
let exited: Promise<number | null>;

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-dev-'));
  dev = spawn(
    process.execPath,
    [
      '-r',
      path.join(ROOT, 'test/fixtures/durable-app/register-ts.js'),
      path.join(ROOT, 'local/cli/main.ts'),
      'dev',
      '--port',
      '0',
      '--module',
      path.join(ROOT, 'test/fixtures/durable-app/app.ts'),
      '--log-level',
      'warning',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, LAKEWATT_HOME: home, LOCAL_JOBS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  exited = new Promise((resolve) => dev.once('exit', resolve));
  baseUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    dev.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match =
        /listening on (http:\/\/127\.0\.0\.1:\d+), Jobs API emulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(
          out,
        );
      if (match) {
        jobsUrl = match[2]!;
        resolve(match[1]!);
      }
    });
    dev.once('exit', (code) => reject(new Error(`lakewatt dev exited with ${code}`)));
  });
}, 30_000);

afterAll(async () => {
  if (dev.exitCode === null) dev.kill('SIGKILL');
  await exited;
  rmSync(home, { recursive: true, force: true });
});

async function waitForStatus(url: string): Promise<{ runtimeStatus: string; output: unknown }> {
  for (let i = 0; i < 100; i++) {
    const status = (await (await fetch(url)).json()) as { runtimeStatus: string; output: unknown };
    if (status.runtimeStatus === 'Completed' || status.runtimeStatus === 'Failed') return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the orchestration did not finish');
}

describe('lakewatt dev', () => {
  it('when dev runs, then the Jobs API emulator answers beside the host with the bundle jobs', async () => {
    const response = await fetch(`${jobsUrl}/api/2.2/jobs/list`, {
      headers: { authorization: `Bearer ${readLocalSecret(home, 'jobs-token')}` },
    });
    const body = (await response.json()) as { jobs?: Array<{ settings?: { name?: string } }> };
    expect(response.status).toBe(200);
    expect(body.jobs?.map((job) => job.settings?.name).sort()).toEqual([
      'lakewatt-gold',
      'lakewatt-maintenance',
      'lakewatt-silver',
    ]);
  });

  it('when it runs, then it serves a registered HTTP function on 127.0.0.1', async () => {
    const response = await fetch(`${baseUrl}/api/hello/dev`);
    expect(await response.json()).toMatchObject({ hello: 'dev' });
  });

  it('when an orchestration is started through the real DurableClient, then it runs to completion', async () => {
    const response = await fetch(`${baseUrl}/api/orchestrators/chain`, { method: 'POST', body: '3' });
    const { statusQueryGetUri } = (await response.json()) as { statusQueryGetUri: string };
    expect(await waitForStatus(statusQueryGetUri)).toEqual(
      expect.objectContaining({ runtimeStatus: 'Completed', output: 96 }),
    );
  });

  it('when another command needs the runtime, then it uses the running dev on the same state folder', async () => {
    const used = await withRuntime(
      (runtime) => Promise.resolve({ baseUrl: runtime.baseUrl, embedded: runtime.host !== undefined }),
      {
        home,
      },
    );
    expect(used).toEqual({ baseUrl, embedded: false });
  });

  it('when no dev runs on a state folder, then a command runs an embedded host for its own duration', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-embedded-'));
    try {
      const seen = await withRuntime(
        async (runtime) => {
          const response = await fetch(`${runtime.baseUrl}/api/hello/embedded`);
          return { embedded: runtime.host !== undefined, body: await response.json() };
        },
        { home: other, modules: [path.join(ROOT, 'test/fixtures/durable-app/app.ts')] },
      );
      expect(seen).toEqual({
        embedded: true,
        body: expect.objectContaining({ hello: 'embedded' }) as unknown,
      });
      expect(existsSync(path.join(other, LOCK_FILE))).toBe(false);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('when it receives Ctrl-C, then it stops cleanly and releases the state folder', async () => {
    dev.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(path.join(home, LOCK_FILE))).toBe(false);
  });
});
