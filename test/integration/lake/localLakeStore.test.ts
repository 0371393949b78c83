import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LocalLakeStore } from '../../../lib/lake';
import { collectList } from '../../helpers/lakeData';
import { describeLakeStoreContract, type LakeStoreFixture } from './lakeStore.contract';

let tempRoot: string;
let counter = 0;

beforeAll(async () => {
  tempRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-lake-'));
});

afterAll(async () => {
  await fs.rm(tempRoot, { recursive: true, force: true });
});

/** A fresh lake root per test, with two containers. */
async function localFixture(): Promise<LakeStoreFixture> {
  const root = path.join(tempRoot, `lake-${++counter}`);
  const store = new LocalLakeStore({ root });
  await store.ensureContainer('bronze');
  await store.ensureContainer('quarantine');
  return {
    store,
    containers: ['bronze', 'quarantine'],
    missingContainer: 'no-such-container',
    dispose: () => fs.rm(root, { recursive: true, force: true }),
  };
}

describeLakeStoreContract('LocalLakeStore', localFixture);

describe('LocalLakeStore: local folders', () => {
  let fixture: LakeStoreFixture;
  let root: string;

  beforeEach(async () => {
    fixture = await localFixture();
    root = path.join(tempRoot, `lake-${counter}`);
  });

  afterEach(async () => {
    await fixture.dispose();
  });

  test('when an object is written, then its folder holds exactly its raw bytes and nothing else', async () => {
    await fixture.store.createOnly('bronze', 'landing/a.csv', 'a,b\n', { metadata: { k: 'v' } });

    expect(await fs.readdir(path.join(root, 'bronze', 'landing'))).toEqual(['a.csv']);
    expect(await fs.readFile(path.join(root, 'bronze', 'landing', 'a.csv'), 'utf8')).toBe('a,b\n');
  });

  test('when a file is dropped in by another tool, then it is listed and read with a stable eTag', async () => {
    await fs.mkdir(path.join(root, 'bronze', 'drop'), { recursive: true });
    await fs.writeFile(path.join(root, 'bronze', 'drop', 'x.csv'), 'external');

    const [listed] = await collectList(fixture.store.list('bronze', 'drop/'));
    const read = await fixture.store.read('bronze', 'drop/x.csv', { ifMatch: listed!.etag });

    expect(read.data.toString('utf8')).toBe('external');
    expect(read.properties).toMatchObject({ etag: listed!.etag, contentType: 'application/octet-stream' });
  });

  test('when a file is changed in place by another tool, then its eTag changes', async () => {
    const written = await fixture.store.createOnly('bronze', 'a.txt', 'v1');
    await fs.appendFile(path.join(root, 'bronze', 'a.txt'), ' and more');

    const properties = await fixture.store.properties('bronze', 'a.txt');

    expect(properties.etag).not.toBe(written.etag);
    expect(properties.size).toBe('v1 and more'.length);
  });

  test('when a crashed writer left a temporary file, then list does not show it', async () => {
    await fixture.store.createOnly('bronze', 'd/a.txt', 'a');
    await fs.writeFile(path.join(root, 'bronze', 'd', '.lakewatt-tmp-deadbeef'), 'half a fi');

    const listed = await collectList(fixture.store.list('bronze'));

    expect(listed.map((entry) => entry.path)).toEqual(['d/a.txt']);
  });

  test('when the last path segment is a symbolic link, then it is not followed', async () => {
    const outside = path.join(tempRoot, `outside-${counter}.txt`);
    await fs.writeFile(outside, 'secret');
    await fs.symlink(outside, path.join(root, 'bronze', 'link.txt'));

    await expect(fixture.store.read('bronze', 'link.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await collectList(fixture.store.list('bronze'))).toEqual([]);
  });

  test('when a lock file was left by a dead process, then writes break it and proceed', async () => {
    const written = await fixture.store.createOnly('bronze', 'a.txt', 'v1');
    const lockDir = path.join(root, '.lakewatt', 'locks');
    await fs.mkdir(lockDir, { recursive: true });
    const { createHash } = await import('node:crypto');
    const lockName = `${createHash('sha256').update('bronze/a.txt').digest('hex').slice(0, 40)}.lock`;
    // A pid far above any pid_max: certainly not running.
    await fs.writeFile(path.join(lockDir, lockName), `999999999 ${os.hostname()} stale`);

    await fixture.store.overwrite('bronze', 'a.txt', 'v2', { ifMatch: written.etag });

    expect((await fixture.store.read('bronze', 'a.txt')).data.toString('utf8')).toBe('v2');
  });
});
