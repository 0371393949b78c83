import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import type { LakeListEntry } from '../../lib/lake';

/** Deterministic pseudo-random bytes (xorshift), different for each seed. */
export function patternBytes(length: number, seed: number): Buffer {
  const buffer = Buffer.alloc(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buffer.writeUInt32LE(x, Math.min(i, length - 4));
  }
  return buffer;
}

/**
 * A stream of `totalBytes` random bytes produced lazily, `chunkBytes` at a time, and the SHA-256 of
 * everything it yields (available once it has been consumed).
 */
export function lazyPatternStream(
  totalBytes: number,
  chunkBytes: number,
): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let digest: string | undefined;
  function* chunks(): Generator<Buffer> {
    for (let offset = 0; offset < totalBytes; offset += chunkBytes) {
      const chunk = randomBytes(Math.min(chunkBytes, totalBytes - offset));
      hash.update(chunk);
      yield chunk;
    }
    digest = hash.digest('hex');
  }
  return {
    stream: Readable.from(chunks(), { objectMode: false }),
    digest: () => {
      if (digest === undefined) throw new Error('the stream has not been consumed completely');
      return digest;
    },
  };
}

/** Consumes a stream, hashing it chunk by chunk; reports the chunk count and the largest chunk. */
export async function hashStream(
  stream: AsyncIterable<unknown>,
): Promise<{ sha256: string; bytes: number; chunks: number; largestChunk: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let chunks = 0;
  let largestChunk = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    hash.update(buffer);
    bytes += buffer.length;
    chunks++;
    largestChunk = Math.max(largestChunk, buffer.length);
  }
  return { sha256: hash.digest('hex'), bytes, chunks, largestChunk };
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function collectList(entries: AsyncIterable<LakeListEntry>): Promise<LakeListEntry[]> {
  const result: LakeListEntry[] = [];
  for await (const entry of entries) result.push(entry);
  return result;
}
