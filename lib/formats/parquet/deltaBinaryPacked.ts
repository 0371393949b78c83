import type { Bytes } from './bytes';

/**
 * Parquet's DELTA_BINARY_PACKED encoding of INT32 / INT64 columns: blocks of 128 deltas, each stored as its
 * block's smallest delta plus four bit-packed miniblocks of 32 (the layout parquet-mr writes). Staged
 * columns such as `source_line` (+1 per row), `ingested_at` and `interval_minutes` (constant) pack to almost
 * nothing, so gzip has a quarter of the bytes to go through (measured in decision 0033, "Round 3").
 *
 * Values arrive as doubles holding integers. Every step stays exact in double arithmetic: an encoder
 * returns false (the caller then writes the column PLAIN, as before) for a value that is not an integer
 * below 2^53 in magnitude, a delta or delta span that reaches 2^53, or, for INT32, a value or smallest
 * delta outside 32 bits or a span of 2^32 or more (INT32 readers add deltas in 32-bit arithmetic).
 */

const BLOCK_SIZE = 128;
const MINIBLOCKS = 4;
const MINIBLOCK_SIZE = BLOCK_SIZE / MINIBLOCKS;
const TWO_53 = 2 ** 53;
const TWO_32 = 2 ** 32;

/**
 * ULEB128 of the zigzag form of an integer with |value| < 2^53: 2|v| for v >= 0, 2|v| - 1 below. Written
 * from the magnitude so no intermediate reaches 2^54 (where doubles stop holding every integer).
 */
export function zigzagVarint(out: Bytes, value: number): void {
  const negative = value < 0;
  // zigzag = 2a + 1 with a = |v| - 1 (negative), or 2a with a = v: its low 7 bits and the rest of it.
  const a = negative ? -value - 1 : value;
  const rest = Math.floor(a / 64);
  const low = (a - rest * 64) * 2 + (negative ? 1 : 0);
  if (rest === 0) {
    out.byte(low);
    return;
  }
  out.byte(low | 0x80);
  let v = rest;
  out.ensure(10);
  while (v >= 0x80) {
    const high = Math.floor(v / 128);
    out.buffer[out.length++] = (v - high * 128) | 0x80;
    v = high;
  }
  out.buffer[out.length++] = v;
}

/** Bits needed for an unsigned integer below 2^53. */
function bitWidth(value: number): number {
  if (value < TWO_32) return value === 0 ? 0 : 32 - Math.clz32(value);
  return 32 + (32 - Math.clz32(Math.floor(value / TWO_32)));
}

/**
 * Bit-packs 32 unsigned values (each below 2^width) LSB first: exactly 4 * width bytes, so every miniblock
 * starts and ends on a byte. Each value goes in 16-bit pieces through a 32-bit accumulator that holds
 * fewer than 8 pending bits between pieces.
 */
function packMiniblock(out: Bytes, values: Float64Array, from: number, width: number): void {
  const bytes = 4 * width;
  out.ensure(bytes);
  const buffer = out.buffer;
  let at = out.length;
  let pending = 0;
  let pendingBits = 0;
  const wide = width > 32;
  for (let k = 0; k < MINIBLOCK_SIZE; k++) {
    const value = values[from + k]!;
    let low: number;
    let high = 0;
    if (wide) {
      high = Math.floor(value / TWO_32);
      low = (value - high * TWO_32) >>> 0;
    } else low = value >>> 0;
    let bits = width;
    let piece = low;
    for (let p = 0; bits > 0; p++) {
      if (p === 2) piece = high;
      const take = bits < 16 ? bits : 16;
      pending |= (piece & 0xffff) << pendingBits;
      pendingBits += take;
      piece >>>= 16;
      bits -= take;
      while (pendingBits >= 8) {
        buffer[at++] = pending & 0xff;
        pending >>>= 8;
        pendingBits -= 8;
      }
    }
  }
  out.length += bytes;
}

/**
 * Encodes `count` values (the non-null ones of the page, in order), given as `values[from..]` times
 * `factor`, into `out`. False, with `out` unchanged in length, when a value does not fit (see above).
 */
export function encodeDeltaBinaryPacked(
  out: Bytes,
  values: ArrayLike<number>,
  count: number,
  factor: number,
  int32: boolean,
  scratch: Float64Array,
): boolean {
  const startLength = out.length;
  out.varint(BLOCK_SIZE);
  out.varint(MINIBLOCKS);
  out.varint(count);
  if (count === 0) {
    zigzagVarint(out, 0);
    return true;
  }
  const first = values[0]! * factor;
  if (!fits(first, int32)) {
    out.length = startLength;
    return false;
  }
  zigzagVarint(out, first);
  let previous = first;
  const deltas = scratch;
  for (let blockStart = 1; blockStart < count; blockStart += BLOCK_SIZE) {
    const inBlock = Math.min(BLOCK_SIZE, count - blockStart);
    let minDelta = Infinity;
    let maxDelta = -Infinity;
    for (let k = 0; k < inBlock; k++) {
      const value = values[blockStart + k]! * factor;
      const delta = value - previous;
      // NaN and non-integers fail `fits`; a delta of 2^53 or more may not be exact.
      if (!fits(value, int32) || !(Math.abs(delta) < TWO_53)) {
        out.length = startLength;
        return false;
      }
      deltas[k] = delta;
      if (delta < minDelta) minDelta = delta;
      if (delta > maxDelta) maxDelta = delta;
      previous = value;
    }
    const span = maxDelta - minDelta;
    if (!(span < (int32 ? TWO_32 : TWO_53)) || (int32 && (minDelta | 0) !== minDelta)) {
      out.length = startLength;
      return false;
    }
    zigzagVarint(out, minDelta);
    // Padding after the last value: zeros (the spec's "should"), packed at the miniblock's width.
    for (let k = inBlock; k < BLOCK_SIZE; k++) deltas[k] = minDelta;
    const miniblocks = Math.ceil(inBlock / MINIBLOCK_SIZE);
    const widthsAt = out.length;
    out.ensure(MINIBLOCKS);
    for (let m = 0; m < MINIBLOCKS; m++) {
      let width = 0;
      if (m < miniblocks) {
        let widest = 0;
        for (let k = m * MINIBLOCK_SIZE; k < (m + 1) * MINIBLOCK_SIZE; k++) {
          const relative = deltas[k]! - minDelta;
          deltas[k] = relative;
          if (relative > widest) widest = relative;
        }
        width = bitWidth(widest);
      }
      out.buffer[widthsAt + m] = width;
    }
    out.length = widthsAt + MINIBLOCKS;
    for (let m = 0; m < miniblocks; m++) {
      const width = out.buffer[widthsAt + m]!;
      if (width > 0) packMiniblock(out, deltas, m * MINIBLOCK_SIZE, width);
    }
  }
  return true;
}

function fits(value: number, int32: boolean): boolean {
  if (int32) return (value | 0) === value;
  return Math.floor(value) === value && Math.abs(value) < TWO_53;
}
