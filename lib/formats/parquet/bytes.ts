/**
 * The byte-level pieces of the Parquet writer (ParquetWriter.ts): a growable buffer, the exact INT64 store
 * and the RLE / bit-packed hybrid encoding.
 */

/**
 * Stores a double holding an integer (|v| < 2^53) as a little-endian signed 64-bit integer. The low word is
 * `value - high * 2^32` rather than `value % 2^32` made non-negative: the same bits for every double
 * (test/unit/validation/exactArithmetic.test.ts), without the fmod call V8 makes for `%` outside 32 bits.
 */
export function setInt64(view: DataView, offset: number, value: number): void {
  const high = Math.floor(value / 0x1_0000_0000);
  view.setUint32(offset, (value - high * 0x1_0000_0000) >>> 0, true);
  view.setInt32(offset + 4, high | 0, true);
}

/** Growable little-endian byte buffer. */
export class Bytes {
  buffer: Buffer;
  length = 0;

  constructor(initial = 1 << 16) {
    this.buffer = Buffer.allocUnsafe(initial);
  }

  ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  byte(value: number): void {
    this.ensure(1);
    this.buffer[this.length++] = value;
  }

  varint(value: number): void {
    let v = value;
    this.ensure(10);
    while (v >= 0x80) {
      this.buffer[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buffer[this.length++] = v;
  }

  /** A view of the current buffer (call after `ensure`: growing replaces the buffer). */
  dataView(): DataView {
    return new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  }

  uint32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32LE(value >>> 0, this.length);
    this.length += 4;
  }

  /** A signed 64-bit integer from a double that holds an integer (|v| < 2^53). */
  int64(value: number): void {
    this.ensure(8);
    const low = value % 0x1_0000_0000;
    const lowBits = low < 0 ? low + 0x1_0000_0000 : low;
    const high = Math.floor(value / 0x1_0000_0000);
    this.buffer.writeUInt32LE(lowBits >>> 0, this.length);
    this.buffer.writeInt32LE(high | 0, this.length + 4);
    this.length += 8;
  }

  utf8(value: string): void {
    const max = value.length * 3;
    this.ensure(max + 4);
    const written = this.buffer.write(value, this.length + 4, 'utf8');
    this.buffer.writeUInt32LE(written, this.length);
    this.length += 4 + written;
  }

  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/**
 * RLE / bit-packed hybrid encoding of small unsigned integers (definition levels, dictionary indices).
 * Runs of 8 or more equal values become RLE runs; everything else is bit-packed in groups of 8.
 */
export function encodeRleHybrid(values: Uint32Array, count: number, bitWidth: number, out: Bytes): void {
  const valueBytes = Math.ceil(bitWidth / 8);
  let literalStart = 0;
  let i = 0;

  const flushLiterals = (end: number): void => {
    const n = end - literalStart;
    if (n <= 0) return;
    const groups = Math.ceil(n / 8);
    out.varint((groups << 1) | 1);
    const byteCount = groups * bitWidth;
    out.ensure(byteCount);
    const start = out.length;
    out.buffer.fill(0, start, start + byteCount);
    const buffer = out.buffer;
    if (bitWidth <= 24) {
      // Through a 32-bit accumulator that holds fewer than 8 pending bits before each value.
      let at = start;
      let pending = 0;
      let pendingBits = 0;
      for (let k = literalStart; k < end; k++) {
        pending |= values[k]! << pendingBits;
        pendingBits += bitWidth;
        while (pendingBits >= 8) {
          buffer[at++] = pending & 0xff;
          pending >>>= 8;
          pendingBits -= 8;
        }
      }
      if (pendingBits > 0) buffer[at] = pending & 0xff;
    } else {
      let bitPos = 0;
      for (let k = literalStart; k < end; k++) {
        let v = values[k]!;
        let bits = bitWidth;
        while (bits > 0) {
          const byteIndex = start + (bitPos >>> 3);
          const offset = bitPos & 7;
          const take = Math.min(8 - offset, bits);
          buffer[byteIndex]! |= (v & ((1 << take) - 1)) << offset;
          v >>>= take;
          bits -= take;
          bitPos += take;
        }
      }
    }
    out.length = start + byteCount;
    literalStart = end;
  };

  while (i < count) {
    const value = values[i]!;
    let j = i + 1;
    while (j < count && values[j] === value) j++;
    let runLength = j - i;
    if (runLength >= 8) {
      const pending = (i - literalStart) % 8;
      if (pending !== 0) {
        // Literal groups hold exactly 8 values except at the very end: lend run values to complete the group.
        const lend = 8 - pending;
        i += lend;
        runLength -= lend;
      }
      flushLiterals(i);
      if (runLength > 0) {
        out.varint(runLength << 1);
        let v = value;
        for (let b = 0; b < valueBytes; b++) {
          out.byte(v & 0xff);
          v >>>= 8;
        }
      }
      i += runLength;
      literalStart = i;
    } else {
      i = j;
    }
  }
  flushLiterals(count);
}
