import { startTestHost, type TestHost } from './harness';

/*
 * The local durable store on a full disk: SQLite's own SQLITE_FULL, caused by capping the database's page
 * count (what a full filesystem does to it, without needing one). The engine must neither stop nor lose
 * work: the failed episode rolls back, is retried with back-off, health reports it, and the orchestration
 * completes once there is room again.
 */

let t: TestHost;

beforeAll(async () => {
  t = await startTestHost();
});

afterAll(async () => {
  t.host.store.db.pragma('max_page_count = 1073741823');
  await t.close();
});

async function eventually(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a full store', () => {
  it('when an episode cannot commit for lack of space, then the engine backs off, reports degraded health, and completes the work once space returns', async () => {
    const db = t.host.store.db;
    const input = { pad: 'x'.repeat(512 * 1024) };
    const id = t.host.engine.startNew('echoInput', { input });
    // Same tick as the start: the first episode has not run yet, and its history needs new pages.
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);

    await eventually('degraded health', () => t.host.engine.health().status === 'degraded');
    const degraded = t.host.engine.health();
    expect(degraded.lastError).toMatch(/full/i);
    expect(t.host.engine.getStatus(id)?.runtimeStatus).toBe('Pending');

    db.pragma('max_page_count = 1073741823');
    await eventually('the orchestration to complete', async () => {
      await t.run(60_000);
      return t.host.engine.getStatus(id)?.runtimeStatus === 'Completed';
    });
    expect(t.host.engine.getStatus(id)?.output).toEqual(input);
    expect(t.host.engine.health()).toMatchObject({ status: 'ok', consecutiveFailures: 0 });
  });
});
