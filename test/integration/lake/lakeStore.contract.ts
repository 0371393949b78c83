import { Readable } from 'node:stream';

import {
  AlreadyExistsError,
  InvalidMetadataError,
  type LakeStore,
  NotFoundError,
  PreconditionFailedError,
  UnsafePathError,
} from '../../../lib/lake';
import { collectList, hashStream, lazyPatternStream, patternBytes, sha256 } from '../../helpers/lakeData';

/** What each contract test gets: a store and two fresh, empty containers (plus a name that does not exist). */
export interface LakeStoreFixture {
  store: LakeStore;
  containers: readonly [string, string];
  missingContainer: string;
  dispose(): Promise<void>;
}

/**
 * The behaviour every LakeStore implementation must show, registered as jest `describe` blocks. Run by
 * localLakeStore.test.ts (a temporary folder) and azureBlobLakeStore.test.ts (Azurite).
 */
export function describeLakeStoreContract(
  name: string,
  createFixture: () => Promise<LakeStoreFixture>,
): void {
  describe(`${name}: LakeStore contract`, () => {
    let fixture: LakeStoreFixture;
    let store: LakeStore;
    let box: string;
    let other: string;

    beforeEach(async () => {
      fixture = await createFixture();
      store = fixture.store;
      [box, other] = fixture.containers;
    });

    afterEach(async () => {
      await fixture.dispose();
    });

    const text = async (container: string, path: string): Promise<string> =>
      (await store.read(container, path)).data.toString('utf8');

    describe('create-only writes', () => {
      test('when an object is created, then reading it returns the same bytes and eTag', async () => {
        const bytes = patternBytes(10_000, 1);

        const written = await store.createOnly(box, 'landing/a.bin', bytes);
        const read = await store.read(box, 'landing/a.bin');

        expect(read.data.equals(bytes)).toBe(true);
        expect(read.properties.etag).toBe(written.etag);
        expect(read.properties.size).toBe(10_000);
      });

      test('when a string is written, then it is stored as UTF-8', async () => {
        await store.createOnly(box, 'note.txt', 'Grüße ⚡');

        const read = await store.read(box, 'note.txt');

        expect(read.data.equals(Buffer.from('Grüße ⚡', 'utf8'))).toBe(true);
      });

      test('when the path already holds an object, then create-only fails with AlreadyExists and keeps it', async () => {
        await store.createOnly(box, 'a.txt', 'first');

        await expect(store.createOnly(box, 'a.txt', 'second')).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await text(box, 'a.txt')).toBe('first');
      });

      test('when ten writers create one path concurrently, then exactly one wins and its bytes are complete', async () => {
        const contents = Array.from({ length: 10 }, (_, i) => patternBytes(256 * 1024, 100 + i));

        const outcomes = await Promise.allSettled(
          contents.map((bytes) => store.createOnly(box, 'race/winner.bin', bytes)),
        );

        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        const losers = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
        expect(winners).toHaveLength(1);
        expect(losers.every((reason) => reason instanceof AlreadyExistsError)).toBe(true);
        const stored = await store.read(box, 'race/winner.bin');
        expect(sha256(stored.data)).toBe(sha256(contents[winners[0]!]!));
      });

      test('when ten streamed writers create one path concurrently, then exactly one wins', async () => {
        const contents = Array.from({ length: 10 }, (_, i) => patternBytes(300 * 1024, 200 + i));

        const outcomes = await Promise.allSettled(
          contents.map((bytes) => store.createOnly(box, 'race/streamed.bin', Readable.from([bytes]))),
        );

        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        const losers = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
        expect(winners).toHaveLength(1);
        expect(losers.every((reason) => reason instanceof AlreadyExistsError)).toBe(true);
        expect(sha256((await store.read(box, 'race/streamed.bin')).data)).toBe(
          sha256(contents[winners[0]!]!),
        );
      });

      test('when the container does not exist, then create-only fails with NotFound', async () => {
        await expect(store.createOnly(fixture.missingContainer, 'a.txt', 'x')).rejects.toBeInstanceOf(
          NotFoundError,
        );
      });

      test('when a multi-megabyte stream is written and read back, then it flows through in chunks', async () => {
        const size = 16 * 1024 * 1024 + 123;
        const source = lazyPatternStream(size, 1024 * 1024);

        await store.createOnly(box, 'big/file.bin', source.stream);
        const { stream, properties } = await store.readStream(box, 'big/file.bin');
        const read = await hashStream(stream);

        expect(properties.size).toBe(size);
        expect(read.bytes).toBe(size);
        expect(read.sha256).toBe(source.digest());
        expect(read.chunks).toBeGreaterThan(4);
        expect(read.largestChunk).toBeLessThanOrEqual(4 * 1024 * 1024);
      });
    });

    describe('eTags and conditional overwrites', () => {
      test('when an object is overwritten with identical bytes, then its eTag still changes', async () => {
        const first = await store.createOnly(box, 'a.txt', 'same');

        const second = await store.overwrite(box, 'a.txt', 'same');

        expect(second.etag).not.toBe(first.etag);
        expect((await store.properties(box, 'a.txt')).etag).toBe(second.etag);
      });

      test('when eTags are returned, then they are unquoted', async () => {
        const written = await store.createOnly(box, 'a.txt', 'x');

        expect(written.etag).not.toMatch(/"/);
        expect((await store.properties(box, 'a.txt')).etag).not.toMatch(/"/);
      });

      test('when overwrite is given the current eTag quoted, then it replaces the object', async () => {
        const first = await store.createOnly(box, 'a.txt', 'v1');

        const second = await store.overwrite(box, 'a.txt', 'v2', { ifMatch: `"${first.etag}"` });

        expect(await text(box, 'a.txt')).toBe('v2');
        expect(second.etag).not.toBe(first.etag);
      });

      test('when overwrite is given a stale eTag, then it fails with PreconditionFailed and keeps the bytes', async () => {
        const first = await store.createOnly(box, 'a.txt', 'v1');
        await store.overwrite(box, 'a.txt', 'v2', { ifMatch: first.etag });

        await expect(store.overwrite(box, 'a.txt', 'v3', { ifMatch: first.etag })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
        expect(await text(box, 'a.txt')).toBe('v2');
      });

      test('when overwrite with an eTag targets a missing object, then it fails with PreconditionFailed', async () => {
        const gone = await store.createOnly(box, 'a.txt', 'v1');
        await store.delete(box, 'a.txt');

        await expect(store.overwrite(box, 'a.txt', 'v2', { ifMatch: gone.etag })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
        expect(await store.exists(box, 'a.txt')).toBe(false);
      });

      test('when overwrite has no eTag, then it creates a missing object', async () => {
        await store.overwrite(box, 'new/a.txt', 'fresh');

        expect(await text(box, 'new/a.txt')).toBe('fresh');
      });

      test('when five writers increment a counter with eTag retries, then no update is lost', async () => {
        await store.createOnly(box, 'counter.json', '0');
        const increment = async (): Promise<void> => {
          for (;;) {
            const current = await store.read(box, 'counter.json');
            const next = String(Number(current.data.toString('utf8')) + 1);
            try {
              await store.overwrite(box, 'counter.json', next, { ifMatch: current.properties.etag });
              return;
            } catch (e) {
              if (!(e instanceof PreconditionFailedError)) throw e;
            }
          }
        };

        await Promise.all(Array.from({ length: 5 }, () => Promise.all([increment(), increment()])));

        expect(await text(box, 'counter.json')).toBe('10');
      });
    });

    describe('pinned reads', () => {
      test('when the object is unchanged, then a read pinned to its eTag returns it', async () => {
        const written = await store.createOnly(box, 'a.txt', 'pinned');

        const { stream, properties } = await store.readStream(box, 'a.txt', { ifMatch: written.etag });

        expect(properties.etag).toBe(written.etag);
        expect((await hashStream(stream)).sha256).toBe(sha256('pinned'));
      });

      test('when the object was replaced after its eTag was taken, then a pinned stream read fails with PreconditionFailed', async () => {
        const first = await store.createOnly(box, 'a.txt', 'old bytes');
        await store.overwrite(box, 'a.txt', 'new bytes');

        await expect(store.readStream(box, 'a.txt', { ifMatch: first.etag })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
      });

      test('when the object was replaced after its eTag was taken, then a pinned buffer read fails with PreconditionFailed', async () => {
        const first = await store.createOnly(box, 'a.txt', 'old bytes');
        await store.overwrite(box, 'a.txt', 'new bytes');

        await expect(store.read(box, 'a.txt', { ifMatch: first.etag })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
      });

      test('when the object is missing, then reads fail with NotFound, pinned or not', async () => {
        await expect(store.read(box, 'missing.txt')).rejects.toBeInstanceOf(NotFoundError);
        await expect(
          store.readStream(box, 'missing.txt', { ifMatch: '0x8D4BCC2E4835CD0' }),
        ).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('listing', () => {
      test('when objects are nested under a prefix, then list returns exactly those, recursively and sorted', async () => {
        for (const path of [
          'd/2025/01/b.csv',
          'd/2025/01/a.csv',
          'd/2025/02/x/y.csv',
          'd-other/z.csv',
          'e.csv',
        ]) {
          await store.createOnly(box, path, path);
        }

        const listed = await collectList(store.list(box, 'd/'));

        expect(listed.map((entry) => entry.path)).toEqual([
          'd/2025/01/a.csv',
          'd/2025/01/b.csv',
          'd/2025/02/x/y.csv',
        ]);
        expect(listed[0]).toMatchObject({ size: 'd/2025/01/a.csv'.length });
        expect(listed[0]!.etag).toBe((await store.properties(box, 'd/2025/01/a.csv')).etag);
        expect(listed[0]!.lastModified).toBeInstanceOf(Date);
      });

      test('when the prefix ends inside a segment, then it matches as a plain string prefix', async () => {
        for (const path of ['m/2025-01/a', 'm/2025-02/b', 'm/2024-12/c', 'm/2025.txt']) {
          await store.createOnly(box, path, 'x');
        }

        const listed = await collectList(store.list(box, 'm/2025-'));

        expect(listed.map((entry) => entry.path)).toEqual(['m/2025-01/a', 'm/2025-02/b']);
      });

      test('when no prefix is given, then the whole container is listed in lexicographic order', async () => {
        for (const path of ['b/c', 'a-b', 'a/b', 'a/a/a']) await store.createOnly(box, path, 'x');

        const listed = await collectList(store.list(box));

        expect(listed.map((entry) => entry.path)).toEqual(['a-b', 'a/a/a', 'a/b', 'b/c']);
      });

      test('when writes used metadata, failed, or were overwritten, then list shows only the objects', async () => {
        await store.createOnly(box, 'x/a.txt', 'a', {
          metadata: { source: 'test' },
          contentType: 'text/plain',
        });
        await store.createOnly(box, 'x/b.txt', 'b');
        await store.overwrite(box, 'x/b.txt', 'b2');
        await expect(store.createOnly(box, 'x/a.txt', 'again')).rejects.toBeInstanceOf(AlreadyExistsError);
        await store.setMetadata(box, 'x/b.txt', { tag: 'v' });
        await store.createOnly(box, 'x/c.txt', 'c');
        await store.delete(box, 'x/c.txt');

        const listed = await collectList(store.list(box));

        expect(listed.map((entry) => entry.path)).toEqual(['x/a.txt', 'x/b.txt']);
      });

      test('when nothing matches the prefix, then list is empty', async () => {
        await store.createOnly(box, 'a/b.txt', 'x');

        expect(await collectList(store.list(box, 'zzz/'))).toEqual([]);
      });

      test('when the container does not exist, then list fails with NotFound', async () => {
        await expect(collectList(store.list(fixture.missingContainer))).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('copy', () => {
      test('when an object is copied, then the copy has its bytes, content type and metadata and a new eTag', async () => {
        const source = await store.createOnly(box, 'src/a.csv', 'a,b\n1,2\n', {
          contentType: 'text/csv',
          metadata: { origin: 'meter-feed' },
        });

        const copy = await store.copy(
          { container: box, path: 'src/a.csv' },
          { container: other, path: 'dst/a.csv' },
        );

        const read = await store.read(other, 'dst/a.csv');
        expect(read.data.toString('utf8')).toBe('a,b\n1,2\n');
        expect(read.properties).toMatchObject({
          contentType: 'text/csv',
          metadata: { origin: 'meter-feed' },
        });
        expect(read.properties.etag).toBe(copy.etag);
        expect(copy.etag).not.toBe(source.etag);
        expect(await text(box, 'src/a.csv')).toBe('a,b\n1,2\n');
      });

      test('when the copy destination exists, then copy fails with AlreadyExists and keeps it', async () => {
        await store.createOnly(box, 'a.txt', 'source');
        await store.createOnly(box, 'b.txt', 'existing');

        await expect(
          store.copy({ container: box, path: 'a.txt' }, { container: box, path: 'b.txt' }),
        ).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await text(box, 'b.txt')).toBe('existing');
      });

      test('when copy may overwrite, then it replaces the destination', async () => {
        await store.createOnly(box, 'a.txt', 'source');
        await store.createOnly(box, 'b.txt', 'existing');

        await store.copy(
          { container: box, path: 'a.txt' },
          { container: box, path: 'b.txt' },
          { overwrite: true },
        );

        expect(await text(box, 'b.txt')).toBe('source');
      });

      test('when the source changed since the given eTag, then copy fails with PreconditionFailed', async () => {
        const first = await store.createOnly(box, 'a.txt', 'v1');
        await store.overwrite(box, 'a.txt', 'v2');

        await expect(
          store.copy(
            { container: box, path: 'a.txt' },
            { container: other, path: 'a.txt' },
            { ifMatch: first.etag },
          ),
        ).rejects.toBeInstanceOf(PreconditionFailedError);
        expect(await store.exists(other, 'a.txt')).toBe(false);
      });

      test('when the copy source is missing, then copy fails with NotFound', async () => {
        await expect(
          store.copy({ container: box, path: 'nope.txt' }, { container: other, path: 'nope.txt' }),
        ).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('move', () => {
      test('when an object is moved, then the destination holds it and the source is gone', async () => {
        await store.createOnly(box, 'landing/f.csv', 'rows', {
          contentType: 'text/csv',
          metadata: { k: 'v' },
        });

        const moved = await store.move(
          { container: box, path: 'landing/f.csv' },
          { container: other, path: 'q/f.csv' },
        );

        expect(await store.exists(box, 'landing/f.csv')).toBe(false);
        const read = await store.read(other, 'q/f.csv');
        expect(read.data.toString('utf8')).toBe('rows');
        expect(read.properties).toMatchObject({
          contentType: 'text/csv',
          metadata: { k: 'v' },
          etag: moved.etag,
        });
      });

      test('when the move destination exists, then move fails with AlreadyExists and both objects stay', async () => {
        await store.createOnly(box, 'a.txt', 'source');
        await store.createOnly(other, 'a.txt', 'existing');

        await expect(
          store.move({ container: box, path: 'a.txt' }, { container: other, path: 'a.txt' }),
        ).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await text(box, 'a.txt')).toBe('source');
        expect(await text(other, 'a.txt')).toBe('existing');
      });

      test('when move may overwrite, then it replaces the destination and removes the source', async () => {
        await store.createOnly(box, 'a.txt', 'source');
        await store.createOnly(other, 'a.txt', 'existing');

        await store.move(
          { container: box, path: 'a.txt' },
          { container: other, path: 'a.txt' },
          { overwrite: true },
        );

        expect(await text(other, 'a.txt')).toBe('source');
        expect(await store.exists(box, 'a.txt')).toBe(false);
      });

      test('when the source changed since the given eTag, then move fails with PreconditionFailed and moves nothing', async () => {
        const first = await store.createOnly(box, 'a.txt', 'v1');
        await store.overwrite(box, 'a.txt', 'v2');

        await expect(
          store.move(
            { container: box, path: 'a.txt' },
            { container: other, path: 'a.txt' },
            { ifMatch: first.etag },
          ),
        ).rejects.toBeInstanceOf(PreconditionFailedError);
        expect(await text(box, 'a.txt')).toBe('v2');
        expect(await store.exists(other, 'a.txt')).toBe(false);
      });

      test('when the move source is missing, then move fails with NotFound', async () => {
        await expect(
          store.move({ container: box, path: 'nope.txt' }, { container: other, path: 'nope.txt' }),
        ).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('delete and exists', () => {
      test('when an existing object is deleted, then delete returns true and it no longer exists', async () => {
        await store.createOnly(box, 'a/b.txt', 'x');

        expect(await store.delete(box, 'a/b.txt')).toBe(true);
        expect(await store.exists(box, 'a/b.txt')).toBe(false);
      });

      test('when a missing object is deleted, then delete returns false (idempotent)', async () => {
        expect(await store.delete(box, 'never.txt')).toBe(false);
        expect(await store.delete(box, 'never.txt', { ifMatch: '0x8D4BCC2E4835CD0' })).toBe(false);
      });

      test('when delete is given a stale eTag, then it fails with PreconditionFailed and keeps the object', async () => {
        const first = await store.createOnly(box, 'a.txt', 'v1');
        await store.overwrite(box, 'a.txt', 'v2');

        await expect(store.delete(box, 'a.txt', { ifMatch: first.etag })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
        expect(await text(box, 'a.txt')).toBe('v2');
      });

      test('when delete is given the current eTag, then it deletes', async () => {
        const written = await store.createOnly(box, 'a.txt', 'v1');

        expect(await store.delete(box, 'a.txt', { ifMatch: written.etag })).toBe(true);
      });

      test('when a path is only a folder of other objects, then it does not exist as an object', async () => {
        await store.createOnly(box, 'dir/file.txt', 'x');

        expect(await store.exists(box, 'dir')).toBe(false);
        expect(await store.exists(box, 'dir/file.txt')).toBe(true);
      });

      test('when the container does not exist, then exists is false', async () => {
        expect(await store.exists(fixture.missingContainer, 'a.txt')).toBe(false);
      });
    });

    describe('properties and metadata', () => {
      test('when an object is written with metadata and a content type, then properties return them', async () => {
        const before = Date.now();
        const written = await store.createOnly(box, 'a.json', '{"a":1}', {
          contentType: 'application/json',
          metadata: { SourceSystem: 'mdm-a', rows: '1' },
        });

        const properties = await store.properties(box, 'a.json');

        expect(properties).toMatchObject({
          size: 7,
          etag: written.etag,
          contentType: 'application/json',
          metadata: { sourcesystem: 'mdm-a', rows: '1' },
        });
        expect(properties.lastModified.getTime()).toBeGreaterThan(before - 5_000);
      });

      test('when no content type is given, then it is application/octet-stream', async () => {
        await store.createOnly(box, 'a.bin', Buffer.from([1, 2, 3]));

        expect((await store.properties(box, 'a.bin')).contentType).toBe('application/octet-stream');
      });

      test('when metadata is replaced, then the bytes stay and the eTag changes', async () => {
        const written = await store.createOnly(box, 'a.txt', 'bytes', { metadata: { a: '1' } });

        const updated = await store.setMetadata(box, 'a.txt', { b: '2' }, { ifMatch: written.etag });

        const read = await store.read(box, 'a.txt');
        expect(read.data.toString('utf8')).toBe('bytes');
        expect(read.properties.metadata).toEqual({ b: '2' });
        expect(updated.etag).not.toBe(written.etag);
        expect(read.properties.etag).toBe(updated.etag);
      });

      test('when metadata is set with a stale eTag, then it fails with PreconditionFailed', async () => {
        const first = await store.createOnly(box, 'a.txt', 'v1');
        await store.overwrite(box, 'a.txt', 'v2');

        await expect(
          store.setMetadata(box, 'a.txt', { b: '2' }, { ifMatch: first.etag }),
        ).rejects.toBeInstanceOf(PreconditionFailedError);
      });

      test('when the object is missing, then properties and setMetadata fail with NotFound', async () => {
        await expect(store.properties(box, 'missing')).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.setMetadata(box, 'missing', { a: '1' })).rejects.toBeInstanceOf(NotFoundError);
      });

      test.each([
        ['a key that is not an identifier', { 'bad-key': 'x' }],
        ['a non-ASCII value', { key: 'Grüße' }],
        ['a value with a line break', { key: 'a\nb' }],
      ])('when metadata has %s, then the write fails with InvalidMetadata', async (_label, metadata) => {
        await expect(store.createOnly(box, 'a.txt', 'x', { metadata })).rejects.toBeInstanceOf(
          InvalidMetadataError,
        );
        expect(await store.exists(box, 'a.txt')).toBe(false);
      });
    });

    describe('names', () => {
      const unsafePaths: Array<[string, string]> = [
        ['a parent traversal', '../x'],
        ['an inner parent traversal', 'a/../../x'],
        ['an absolute path', '/abs/x'],
        ['an empty segment', 'a//b'],
        ['a trailing slash', 'a/b/'],
        ['a dot segment', 'a/./b'],
        ['a segment ending in a dot', 'a./b'],
        ['a backslash', 'a\\..\\b'],
        ['a NUL character', 'a\u0000b'],
        ['a line break', 'a\nb'],
        ['a DEL character', 'a\u007fb'],
        ['an empty path', ''],
        ['more than 1024 characters', `${'a/'.repeat(512)}b`],
        ['more than 254 segments', Array.from({ length: 255 }, () => 'a').join('/')],
        ['a segment longer than 255 bytes', 'é'.repeat(128)],
        ['a lone surrogate', 'a\ud800b'],
        ['a reserved temp-file name', 'a/.lakewatt-tmp-1234'],
      ];

      test.each(unsafePaths)(
        'when a path has %s, then every operation rejects it with UnsafePath',
        async (_label, path) => {
          const ref = { container: box, path };
          const safe = { container: box, path: 'safe.txt' };
          await store.createOnly(box, 'safe.txt', 'x');
          const attempts: Array<() => Promise<unknown>> = [
            () => store.createOnly(box, path, 'x'),
            () => store.overwrite(box, path, 'x'),
            () => store.read(box, path),
            () => store.readStream(box, path),
            () => store.properties(box, path),
            () => store.exists(box, path),
            () => store.delete(box, path),
            () => store.setMetadata(box, path, {}),
            () => store.copy(safe, ref),
            () => store.copy(ref, safe),
            () => store.move(safe, ref),
          ];

          for (const attempt of attempts) {
            await expect(attempt()).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
          }
          expect(await text(box, 'safe.txt')).toBe('x');
        },
      );

      test.each(['Bronze', 'ab', 'a--b', '-ab', 'ab-', 'a_b', '../bronze', 'x'.repeat(64)])(
        'when a container name is %j, then it is rejected with UnsafePath',
        async (container) => {
          await expect(store.createOnly(container, 'a.txt', 'x')).rejects.toBeInstanceOf(UnsafePathError);
          await expect(collectList(store.list(container))).rejects.toBeInstanceOf(UnsafePathError);
        },
      );

      test.each(['../', '/abs', 'a//', 'a/../'])(
        'when a list prefix is %j, then it is rejected with UnsafePath',
        async (prefix) => {
          await expect(collectList(store.list(box, prefix))).rejects.toBeInstanceOf(UnsafePathError);
        },
      );

      test('when a path is at the limits (1024 characters, 255-byte segments, 254 segments), then it is accepted', async () => {
        const longest = `${['a', 'b', 'c', 'd'].map((c) => c.repeat(254)).join('/')}/${'x'.repeat(4)}`;
        const deepest = Array.from({ length: 254 }, () => 'd').join('/');
        const widest = 'w'.repeat(255);
        expect(longest.length).toBe(1024);

        for (const path of [longest, deepest, widest, 'unicode/Zähler ⚡/файл.csv']) {
          await store.createOnly(box, path, path);
          expect(await text(box, path)).toBe(path);
        }
      });
    });
  });
}
