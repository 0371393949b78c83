import { promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { compareSequencers, decideBlobCreated } from '../../../lib/events/blobCreated';
import type { EventGridEvent } from '../../../lib/events/blobCreatedEvent';
import { LocalLakeStore } from '../../../lib/lake';
import { LandingWatcher, type LandingWatcherOptions } from '../../../local/events/landingWatcher';
import { tempFolder } from './support';

const FILE = 'landing/meter_readings/headend_utc/2025/10/26/readings.csv';
const OTHER = 'landing/prices/energy_charts/2025/10/26/prices.csv';

interface Fixture {
  root: string;
  lake: LocalLakeStore;
  stateFile: string;
  /** Every event handed to onEvents, by any watcher of this fixture. */
  delivered: EventGridEvent[];
  watcher(options?: Partial<LandingWatcherOptions>): LandingWatcher;
}

let fixture: Fixture;
let cleanup: Array<() => Promise<void>> = [];

beforeEach(async () => {
  const temp = await tempFolder('watcher');
  const root = path.join(temp.dir, 'lake');
  const lake = new LocalLakeStore({ root, fsync: false });
  await lake.ensureContainer('bronze');
  const delivered: EventGridEvent[] = [];
  cleanup = [temp.remove];
  fixture = {
    root,
    lake,
    stateFile: path.join(temp.dir, 'state', 'announced.sqlite'),
    delivered,
    watcher: (options = {}) => {
      const watcher = new LandingWatcher({
        lake,
        stateFile: fixture.stateFile,
        settleMs: 0,
        onEvents: (events) => {
          delivered.push(...events);
          return Promise.resolve();
        },
        ...options,
      });
      cleanup.unshift(() => watcher.stop());
      return watcher;
    },
  };
});

afterEach(async () => {
  for (const step of cleanup) await step();
});

describe('LandingWatcher', () => {
  it('when a new file lands, then one poll announces one BlobCreated event with its eTag', async () => {
    const watcher = fixture.watcher();
    await watcher.poll();
    const written = await fixture.lake.createOnly('bronze', FILE, 'a,b\n1,2\n', { contentType: 'text/csv' });

    const events = await watcher.poll();

    expect(events).toHaveLength(1);
    expect(events[0]!.subject).toBe(`/blobServices/default/containers/bronze/blobs/${FILE}`);
    expect(events[0]!.data).toMatchObject({
      eTag: `"${written.etag}"`,
      contentLength: 8,
      contentType: 'text/csv',
    });
    expect(decideBlobCreated(events[0])).toMatchObject({
      kind: 'ingest',
      file: { path: FILE, etag: written.etag },
    });
    expect(fixture.delivered).toEqual(events);
  });

  it('when nothing changed since the last poll, then the next poll announces nothing', async () => {
    const watcher = fixture.watcher({ announceExisting: true });
    await fixture.lake.createOnly('bronze', FILE, 'x');
    await watcher.poll();

    const events = await watcher.poll();

    expect(events).toEqual([]);
    expect(fixture.delivered).toHaveLength(1);
  });

  it('when a file is overwritten, then a second event carries the new eTag and a later sequencer', async () => {
    const watcher = fixture.watcher();
    await watcher.poll();
    await fixture.lake.createOnly('bronze', FILE, 'first');
    const [first] = await watcher.poll();
    const second = await fixture.lake.overwrite('bronze', FILE, 'second version');

    const events = await watcher.poll();

    expect(events).toHaveLength(1);
    expect(events[0]!.data.eTag).toBe(`"${second.etag}"`);
    expect(events[0]!.data.eTag).not.toBe(first!.data.eTag);
    expect(compareSequencers(first!.data.sequencer, events[0]!.data.sequencer)).toBeLessThan(0);
  });

  it("when the store's hidden temp file of a half-written version sits in a landing folder, then nothing is announced", async () => {
    const watcher = fixture.watcher();
    await watcher.poll();
    const folder = path.join(fixture.root, 'bronze', ...path.dirname(FILE).split('/'));
    await fs.mkdir(folder, { recursive: true });
    await fs.writeFile(path.join(folder, '.lakewatt-tmp-0123456789abcdef'), 'a,b\n1,');

    const events = await watcher.poll();

    expect(events).toEqual([]);
  });

  it('when another tool is still writing a file in place, then it is announced only once unchanged for settleMs', async () => {
    const watcher = fixture.watcher({ settleMs: 400 });
    await watcher.poll();
    const file = path.join(fixture.root, 'bronze', ...FILE.split('/'));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, 'a,b\n');
    expect(await watcher.poll()).toEqual([]);
    await sleep(200);
    await fs.appendFile(file, '1,2\n');
    expect(await watcher.poll()).toEqual([]);

    await sleep(450);
    const events = await watcher.poll();

    expect(events).toHaveLength(1);
    expect(events[0]!.data.contentLength).toBe(8);
    expect(events[0]!.data.eTag).toBe(`"${(await fixture.lake.properties('bronze', FILE)).etag}"`);
  });

  it('when the watcher restarts on the same state file, then files already announced are not announced again', async () => {
    const first = fixture.watcher();
    await first.poll();
    await fixture.lake.createOnly('bronze', FILE, 'x');
    await first.poll();
    await first.stop();

    const events = await fixture.watcher({ announceExisting: true }).poll();

    expect(events).toEqual([]);
    expect(fixture.delivered).toHaveLength(1);
  });

  it('when a file lands while the watcher is stopped, then the restarted watcher announces it', async () => {
    const first = fixture.watcher();
    await first.poll();
    await first.stop();
    await fixture.lake.createOnly('bronze', FILE, 'x');

    const events = await fixture.watcher().poll();

    expect(events.map((e) => e.subject)).toEqual([`/blobServices/default/containers/bronze/blobs/${FILE}`]);
  });

  it('when the watcher first starts over existing files, then they are recorded without events', async () => {
    await fixture.lake.createOnly('bronze', FILE, 'x');

    const events = await fixture.watcher().poll();

    expect(events).toEqual([]);
  });

  it('when the watcher first starts with announceExisting, then existing files are announced', async () => {
    await fixture.lake.createOnly('bronze', FILE, 'x');
    await fixture.lake.createOnly('bronze', OTHER, 'y');

    const events = await fixture.watcher({ announceExisting: true }).poll();

    expect(events.map((e) => e.subject.split('/blobs/')[1])).toEqual([FILE, OTHER]);
  });

  it('when announce() has announced a file, then the next poll does not announce it again', async () => {
    const watcher = fixture.watcher();
    await watcher.poll();
    const written = await fixture.lake.createOnly('bronze', FILE, 'x');

    const result = await watcher.announce(FILE);
    const events = await watcher.poll();

    expect(result).toMatchObject({ announced: true, event: { data: { eTag: `"${written.etag}"` } } });
    expect(events).toEqual([]);
    expect(fixture.delivered).toHaveLength(1);
  });

  it('when announce() is called again for the same version, then it reports it as already announced', async () => {
    const watcher = fixture.watcher();
    const written = await fixture.lake.createOnly('bronze', FILE, 'x');
    await watcher.announce(FILE);

    const again = await watcher.announce(FILE);

    expect(again).toEqual({ announced: false, reason: 'ALREADY_ANNOUNCED', etag: written.etag });
    expect(fixture.delivered).toHaveLength(1);
  });

  it('when another watcher on the same state file (a `drop` process) announced a version, then this one does not', async () => {
    const dev = fixture.watcher();
    await dev.poll();
    const drop = fixture.watcher();
    await fixture.lake.createOnly('bronze', FILE, 'x');
    await drop.announce(FILE);

    const events = await dev.poll();

    expect(events).toEqual([]);
    expect(fixture.delivered).toHaveLength(1);
  });

  it('when onEvents rejects, then the version stays unannounced and the next poll announces it again', async () => {
    let fail = true;
    const attempts: EventGridEvent[][] = [];
    const watcher = fixture.watcher({
      onEvents: (events) => {
        attempts.push(events);
        return fail ? Promise.reject(new Error('host down')) : Promise.resolve();
      },
    });
    await watcher.poll();
    await fixture.lake.createOnly('bronze', FILE, 'x');
    await expect(watcher.poll()).rejects.toThrow('host down');
    fail = false;

    const events = await watcher.poll();

    expect(events).toHaveLength(1);
    expect(attempts.map((a) => a.length)).toEqual([1, 1]);
    expect(events[0]!.data.eTag).toBe(attempts[0]![0]!.data.eTag);
  });

  it('when a file lands outside landing/, then nothing is announced and announce() declines it', async () => {
    const watcher = fixture.watcher();
    await watcher.poll();
    await fixture.lake.createOnly('bronze', 'archive/2025/old.csv', 'x');

    const events = await watcher.poll();
    const result = await watcher.announce('archive/2025/old.csv');

    expect(events).toEqual([]);
    expect(result).toEqual({ announced: false, reason: 'OUTSIDE_LANDING', etag: undefined });
  });

  it('when started, then it polls on its own and announces a new file; stop ends it cleanly', async () => {
    const announced = new Promise<EventGridEvent[]>((resolve) => {
      const watcher = fixture.watcher({
        intervalMs: 20,
        onEvents: (events) => {
          resolve(events);
          return Promise.resolve();
        },
      });
      watcher.start();
      void sleep(60).then(() => fixture.lake.createOnly('bronze', FILE, 'x'));
      cleanup.unshift(() => watcher.stop());
    });

    const events = await announced;

    expect(events.map((e) => e.subject.split('/blobs/')[1])).toEqual([FILE]);
  });

  it('when stopped, then further polls are refused', async () => {
    const watcher = fixture.watcher();
    await watcher.stop();

    await expect(watcher.poll()).rejects.toThrow('stopped');
  });
});
