import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { InstanceStatus } from '../../../local/host/durable/engine';
import { EventType, type HistoryEvent } from '../../../local/host/durable/protocol';
import { START } from './harness';

const CHILD = path.resolve(__dirname, '../../fixtures/durable-app/child.js');

interface Child {
  process: ChildProcess;
  request<T>(message: Record<string, unknown>): Promise<T>;
  fault: Promise<Record<string, unknown>>;
}

const children = new Set<ChildProcess>();
let home: string;

beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-crash-'));
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  rmSync(home, { recursive: true, force: true });
});

/** Starts a host in a child process on `home`; resolves when it is ready. */
async function startChild(env: Record<string, string> = {}, clock = START): Promise<Child> {
  const child = fork(CHILD, [], {
    env: {
      ...process.env,
      LAKEWATT_TEST_HOME: home,
      LAKEWATT_TEST_CLOCK: String(clock),
      LAKEWATT_TEST_CALLS_FILE: path.join(home, 'calls.jsonl'),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  let nextId = 0;
  const pending = new Map<number, (value: unknown) => void>();
  let onFault: (value: Record<string, unknown>) => void = () => {};
  const fault = new Promise<Record<string, unknown>>((resolve) => (onFault = resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    child.on('message', (raw) => {
      const message = raw as { type: string; id?: number; value?: unknown };
      if (message.type === 'ready') resolve();
      if (message.type === 'fault') onFault(message);
      if (message.type === 'reply' && message.id !== undefined) pending.get(message.id)?.(message.value);
    });
  });
  await ready;
  return {
    process: child,
    fault,
    request: <T>(message: Record<string, unknown>) =>
      new Promise<T>((resolve) => {
        const id = nextId++;
        pending.set(id, resolve as (value: unknown) => void);
        child.send({ ...message, id });
      }),
  };
}

async function kill(child: Child): Promise<void> {
  const exited = new Promise((resolve) => child.process.once('exit', resolve));
  child.process.kill('SIGKILL');
  await exited;
  children.delete(child.process);
}

/** Runs the restarted host to completion, moving its clock past the pipeline's timer. */
async function finish(child: Child): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await child.request({ cmd: 'idle' });
    const due = await child.request<number | null>({ cmd: 'nextDue' });
    if (due === null) return;
    await child.request({ cmd: 'advance', ms: 60_000 });
  }
}

function activityRuns(name: string): number {
  const file = path.join(home, 'calls.jsonl');
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && (JSON.parse(line) as { name: string }).name === name).length;
}

/** Every sequence id was scheduled exactly once, in order: no orchestration step ran twice. */
function expectStepsOnce(history: HistoryEvent[]): void {
  const scheduled = history
    .filter((e) => e.EventType === EventType.TaskScheduled || e.EventType === EventType.TimerCreated)
    .map((e) => e.EventId);
  expect(scheduled).toEqual([0, 1, 2, 3, 4, 5]);
  const completions = history
    .filter((e) => e.EventType === EventType.TaskCompleted || e.EventType === EventType.TimerFired)
    .map((e) => (e.EventType === EventType.TimerFired ? e.TimerId : e.TaskScheduledId));
  expect(completions).toEqual([0, 1, 2, 3, 4, 5]);
}

async function crashAndResume(
  env: Record<string, string>,
): Promise<{ status: InstanceStatus; history: HistoryEvent[] }> {
  const first = await startChild(env);
  await first.request({ cmd: 'start', name: 'pipeline', instanceId: 'job', input: { n: 1 } });
  await first.fault;
  await kill(first);
  const second = await startChild();
  await finish(second);
  const status = await second.request<InstanceStatus>({ cmd: 'status', instanceId: 'job' });
  const history = await second.request<HistoryEvent[]>({ cmd: 'history', instanceId: 'job' });
  await second.request({ cmd: 'stop' });
  return { status, history };
}

jest.setTimeout(60_000);

// pipeline: slow(1)=2, double=4, timer, double=8, double=16, echo=16
describe('crash safety (SIGKILL of a real host process)', () => {
  it('when the process dies inside an activity, then a restart runs it again and the instance finishes', async () => {
    const { status, history } = await crashAndResume({ LAKEWATT_TEST_BLOCK_IN: 'slow' });
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 16 });
    expect(activityRuns('slow')).toBe(2);
    expectStepsOnce(history);
  });

  it('when the process dies between an activity end and its history write, then the activity re-runs once', async () => {
    const { status, history } = await crashAndResume({ LAKEWATT_TEST_CRASH_AT: 'activity:finished' });
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 16 });
    expect(activityRuns('slow')).toBe(2);
    expect(activityRuns('double')).toBe(3);
    expectStepsOnce(history);
  });

  it('when the process dies before an episode commits, then the episode replays once and steps stay single', async () => {
    const { status, history } = await crashAndResume({ LAKEWATT_TEST_CRASH_AT: 'episode:before-commit' });
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 16 });
    expect(activityRuns('slow')).toBe(1);
    expectStepsOnce(history);
  });

  it('when the process dies right after an episode commits, then nothing is scheduled twice', async () => {
    const { status, history } = await crashAndResume({ LAKEWATT_TEST_CRASH_AT: 'episode:after-commit' });
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 16 });
    expectStepsOnce(history);
  });

  it('when the process dies while a timer waits, then a restart fires the timer and the instance finishes', async () => {
    const first = await startChild();
    await first.request({ cmd: 'start', name: 'pipeline', instanceId: 'job', input: { n: 1 } });
    await first.request({ cmd: 'idle' });
    expect(await first.request<number | null>({ cmd: 'nextDue' })).toBe(START + 30_000);
    await kill(first);
    const second = await startChild({}, START + 10_000);
    await finish(second);
    const status = await second.request<InstanceStatus>({ cmd: 'status', instanceId: 'job' });
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 16 });
    expect(activityRuns('slow')).toBe(1);
    expectStepsOnce(await second.request<HistoryEvent[]>({ cmd: 'history', instanceId: 'job' }));
    await second.request({ cmd: 'stop' });
  });
});
