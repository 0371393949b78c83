import { gzipSync } from 'node:zlib';

import type { SparkType } from '../../contracts/datasets';
import type { ColumnBatch, ColumnSpec } from './columnBatch';
import { binary, bool, encodeStruct, i32, i64, list, struct, type ThriftStruct } from './thrift';

/**
 * A small Parquet writer for flat schemas of primitive columns: the staged canonical files.
 *
 * It writes one row group per ColumnBatch, with one data page (v1) per column chunk. Strings are
 * dictionary-encoded while their dictionary stays small and plain otherwise; numbers are plain.
 * Timestamps are INT64 microseconds adjusted to UTC (Spark's TimestampType), dates INT32 days.
 * Chosen over hyparquet-writer and parquet-wasm by measurement: docs/decisions/0004-parquet-writer.md.
 */

const MAGIC = Buffer.from('PAR1', 'ascii');

const enum PhysicalType {
  Boolean = 0,
  Int32 = 1,
  Int64 = 2,
  Double = 5,
  ByteArray = 6,
}

const enum Encoding {
  Plain = 0,
  PlainDictionary = 2,
  Rle = 3,
}

const enum ConvertedType {
  Utf8 = 0,
  Date = 6,
  TimestampMicros = 10,
}

export type ParquetCompression = 'none' | 'gzip';

const CODEC: Record<ParquetCompression, number> = { none: 0, gzip: 2 };

const MAX_DICTIONARY_ENTRIES = 1 << 16;
const MAX_DICTIONARY_BYTES = 1 << 20;

export interface ParquetWriterOptions {
  compression?: ParquetCompression;
  /** Key/value pairs stored in the file footer (e.g. the source contract and instance id). */
  metadata?: Record<string, string>;
}

/** Where the writer's bytes go; a returned promise is awaited before more bytes are produced (backpressure). */
export type ByteSink = (chunk: Buffer) => void | Promise<void>;

function physicalType(type: SparkType): PhysicalType {
  switch (type) {
    case 'string':
      return PhysicalType.ByteArray;
    case 'timestamp':
    case 'long':
      return PhysicalType.Int64;
    case 'date':
    case 'integer':
      return PhysicalType.Int32;
    case 'double':
      return PhysicalType.Double;
    case 'boolean':
      return PhysicalType.Boolean;
  }
}

function schemaElement(column: ColumnSpec): ThriftStruct {
  const element: ThriftStruct = {
    1: i32(physicalType(column.type)),
    3: i32(column.nullable ? 1 : 0),
    4: binary(column.name),
  };
  switch (column.type) {
    case 'string':
      element[6] = i32(ConvertedType.Utf8);
      element[10] = struct({ 1: struct({}) });
      break;
    case 'timestamp':
      element[6] = i32(ConvertedType.TimestampMicros);
      element[10] = struct({ 8: struct({ 1: bool(true), 2: struct({ 2: struct({}) }) }) });
      break;
    case 'date':
      element[6] = i32(ConvertedType.Date);
      element[10] = struct({ 6: struct({}) });
      break;
    // Plain INT32 / INT64 already mean signed 32- and 64-bit integers; no annotation needed.
    case 'integer':
    case 'long':
    case 'double':
    case 'boolean':
      break;
  }
  return element;
}

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
class Bytes {
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
    let bitPos = 0;
    for (let k = literalStart; k < end; k++) {
      let v = values[k]!;
      let bits = bitWidth;
      while (bits > 0) {
        const byteIndex = start + (bitPos >>> 3);
        const offset = bitPos & 7;
        const take = Math.min(8 - offset, bits);
        out.buffer[byteIndex]! |= (v & ((1 << take) - 1)) << offset;
        v >>>= take;
        bits -= take;
        bitPos += take;
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

/** A column chunk's pages as written, each after its header, with the sizes its metadata records. */
interface CompressedChunk {
  pages: Buffer[];
  uncompressedSize: number;
  compressedSize: number;
  dictionaryPageSize: number;
}

/** A column chunk as encoded, before compression: its optional dictionary page and its data page. */
interface EncodedChunk {
  dictionary: { body: Buffer; count: number } | undefined;
  data: { body: Buffer; values: number; encoding: Encoding };
}

export class ParquetWriter {
  private offset = 0;
  private rows = 0;
  /** Row-group metadata, encoded as soon as the group is written (objects per column add up on big files). */
  private readonly rowGroups: Buffer[] = [];
  private readonly codec: number;
  private started = false;
  private finished = false;
  private readonly valueBuffers: Array<Bytes | undefined> = [];

  constructor(
    private readonly columns: readonly ColumnSpec[],
    private readonly sink: ByteSink,
    private readonly options: ParquetWriterOptions = {},
  ) {
    this.codec = CODEC[options.compression ?? 'none'];
  }

  get rowCount(): number {
    return this.rows;
  }

  private async emit(chunk: Buffer): Promise<void> {
    this.offset += chunk.length;
    await this.sink(chunk);
  }

  /**
   * Level-1 gzip, here on the calling thread: handing pages to libuv's thread pool (zlib's async API) was
   * measured slower on the 2-core machine shared with Spark jobs (decision 0033).
   */
  private compress(page: Buffer): Buffer {
    return this.codec === CODEC.gzip ? gzipSync(page, { level: 1 }) : page;
  }

  private pageHeader(type: number, uncompressed: number, compressed: number, detail: ThriftStruct): Buffer {
    const header: ThriftStruct = { 1: i32(type), 2: i32(uncompressed), 3: i32(compressed) };
    if (type === 2) header[7] = struct(detail);
    else header[5] = struct(detail);
    return encodeStruct(header);
  }

  private encodeColumn(batch: ColumnBatch, index: number): EncodedChunk {
    const column = this.columns[index]!;
    const n = batch.length;
    // The column's value buffer is reused from group to group (the page body below is a copy of it).
    const values = (this.valueBuffers[index] ??= new Bytes(Math.max(1024, n * 9)));
    values.length = 0;
    const nullFlags = batch.nulls[index];
    const strings = batch.strings[index];
    const numbers = batch.numbers[index];
    let present = n;

    const levels = new Bytes(column.nullable ? 64 : 0);
    if (column.nullable) {
      const defs = new Uint32Array(n);
      present = 0;
      for (let r = 0; r < n; r++) {
        const isNull = strings ? strings[r] === null || strings[r] === undefined : nullFlags?.[r] === 1;
        defs[r] = isNull ? 0 : 1;
        if (!isNull) present++;
      }
      const encoded = new Bytes(64);
      encodeRleHybrid(defs, n, 1, encoded);
      levels.uint32(encoded.length);
      levels.ensure(encoded.length);
      encoded.view().copy(levels.buffer, levels.length);
      levels.length += encoded.length;
    }

    let dictionaryPage: Buffer | undefined;
    let dictionaryCount = 0;
    let encoding = Encoding.Plain;

    if (strings) {
      const dictionary = new Map<string, number>();
      let dictionaryBytes = 0;
      const indices = new Uint32Array(present);
      let k = 0;
      let useDictionary = true;
      // Runs of equal strings (lineage constants, a meter's consecutive readings) skip the map lookup.
      let previous: string | undefined;
      let previousId = 0;
      for (let r = 0; r < n; r++) {
        const s = strings[r];
        if (s === null || s === undefined) continue;
        if (s === previous) {
          indices[k++] = previousId;
          continue;
        }
        let id = dictionary.get(s);
        if (id === undefined) {
          id = dictionary.size;
          dictionary.set(s, id);
          dictionaryBytes += s.length + 4;
          if (dictionary.size > MAX_DICTIONARY_ENTRIES || dictionaryBytes > MAX_DICTIONARY_BYTES) {
            useDictionary = false;
            break;
          }
        }
        indices[k++] = id;
        previous = s;
        previousId = id;
      }
      if (useDictionary && present > 0) {
        const dict = new Bytes(dictionaryBytes * 3 + 16);
        for (const s of dictionary.keys()) dict.utf8(s);
        dictionaryPage = dict.view();
        dictionaryCount = dictionary.size;
        const bitWidth = Math.max(1, Math.ceil(Math.log2(dictionary.size)));
        values.byte(bitWidth);
        encodeRleHybrid(indices, present, bitWidth, values);
        encoding = Encoding.PlainDictionary;
      } else {
        for (let r = 0; r < n; r++) {
          const s = strings[r];
          if (s !== null && s !== undefined) values.utf8(s);
        }
      }
    } else if (numbers) {
      const isNull = (r: number): boolean => nullFlags?.[r] === 1;
      switch (column.type) {
        // Through a DataView: its little-endian stores compile to plain moves, Buffer's write methods do not.
        case 'double': {
          values.ensure(n * 8);
          const view = values.dataView();
          for (let r = 0; r < n; r++) {
            if (isNull(r)) continue;
            view.setFloat64(values.length, numbers[r]!, true);
            values.length += 8;
          }
          break;
        }
        case 'timestamp':
        case 'long': {
          const factor = column.type === 'timestamp' ? 1000 : 1;
          values.ensure(n * 8);
          const view = values.dataView();
          for (let r = 0; r < n; r++) {
            if (isNull(r)) continue;
            setInt64(view, values.length, numbers[r]! * factor);
            values.length += 8;
          }
          break;
        }
        case 'integer':
        case 'date': {
          values.ensure(n * 4);
          const view = values.dataView();
          for (let r = 0; r < n; r++) {
            if (isNull(r)) continue;
            const value = numbers[r]!;
            // Out of the INT32 range: Buffer's check throws as it always did.
            if ((value | 0) === value) view.setInt32(values.length, value, true);
            else values.buffer.writeInt32LE(value, values.length);
            values.length += 4;
          }
          break;
        }
        case 'boolean': {
          const bytes = Math.ceil(present / 8);
          values.ensure(bytes);
          values.buffer.fill(0, values.length, values.length + bytes);
          let bit = 0;
          for (let r = 0; r < n; r++) {
            if (isNull(r)) continue;
            if (numbers[r]) values.buffer[values.length + (bit >>> 3)]! |= 1 << (bit & 7);
            bit++;
          }
          values.length += bytes;
          break;
        }
        case 'string':
          break;
      }
    }

    return {
      dictionary: dictionaryPage ? { body: dictionaryPage, count: dictionaryCount } : undefined,
      data: { body: Buffer.concat([levels.view(), values.view()]), values: n, encoding },
    };
  }

  /** The chunk's pages, compressed, each after its header. */
  private compressChunk(chunk: EncodedChunk): CompressedChunk {
    const dictionary = chunk.dictionary ? this.compress(chunk.dictionary.body) : undefined;
    const data = this.compress(chunk.data.body);
    const pages: Buffer[] = [];
    let uncompressedSize = 0;
    let compressedSize = 0;
    let dictionaryPageSize = 0;
    if (chunk.dictionary && dictionary) {
      const header = this.pageHeader(2, chunk.dictionary.body.length, dictionary.length, {
        1: i32(chunk.dictionary.count),
        2: i32(Encoding.PlainDictionary),
      });
      pages.push(header, dictionary);
      dictionaryPageSize = header.length + dictionary.length;
      uncompressedSize += header.length + chunk.dictionary.body.length;
      compressedSize += dictionaryPageSize;
    }
    const header = this.pageHeader(0, chunk.data.body.length, data.length, {
      1: i32(chunk.data.values),
      2: i32(chunk.data.encoding),
      3: i32(Encoding.Rle),
      4: i32(Encoding.Rle),
    });
    pages.push(header, data);
    uncompressedSize += header.length + chunk.data.body.length;
    compressedSize += header.length + data.length;
    return { pages, uncompressedSize, compressedSize, dictionaryPageSize };
  }

  /** Writes the batch's rows as one row group. Empty batches are skipped. */
  async writeBatch(batch: ColumnBatch): Promise<void> {
    if (this.finished) throw new Error('ParquetWriter: write after finish');
    if (!this.started) {
      this.started = true;
      await this.emit(MAGIC);
    }
    if (batch.length === 0) return;
    const rows = batch.length;
    const chunks: ThriftStruct[] = [];
    let totalBytes = 0;
    let totalCompressed = 0;
    const groupStart = this.offset;
    for (let c = 0; c < this.columns.length; c++) {
      // Column by column, so one column's pages are garbage before the next is encoded.
      const chunk = this.compressChunk(this.encodeColumn(batch, c));
      const chunkStart = this.offset;
      for (const page of chunk.pages) await this.emit(page);
      const dataPageOffset = chunkStart + chunk.dictionaryPageSize;
      const meta: ThriftStruct = {
        1: i32(physicalType(this.columns[c]!.type)),
        2: list(
          'i32',
          chunk.dictionaryPageSize > 0
            ? [Encoding.PlainDictionary, Encoding.Rle]
            : [Encoding.Plain, Encoding.Rle],
        ),
        3: list('binary', [this.columns[c]!.name]),
        4: i32(this.codec),
        5: i64(rows),
        6: i64(chunk.uncompressedSize),
        7: i64(chunk.compressedSize),
        9: i64(dataPageOffset),
      };
      if (chunk.dictionaryPageSize > 0) meta[11] = i64(chunkStart);
      chunks.push({ 2: i64(chunkStart), 3: struct(meta) });
      totalBytes += chunk.uncompressedSize;
      totalCompressed += chunk.compressedSize;
    }
    this.rowGroups.push(
      encodeStruct({
        1: list('struct', chunks),
        2: i64(totalBytes),
        3: i64(rows),
        5: i64(groupStart),
        6: i64(totalCompressed),
      }),
    );
    this.rows += rows;
  }

  /** Writes the footer. The file is valid (possibly with zero rows) only after this. */
  async finish(): Promise<void> {
    if (this.finished) return;
    if (!this.started) {
      this.started = true;
      await this.emit(MAGIC);
    }
    this.finished = true;
    const schema: ThriftStruct[] = [
      { 4: binary('schema'), 5: i32(this.columns.length) },
      ...this.columns.map(schemaElement),
    ];
    const metadata = Object.entries(this.options.metadata ?? {}).map(([key, value]): ThriftStruct => ({
      1: binary(key),
      2: binary(value),
    }));
    const footer = encodeStruct({
      1: i32(1),
      2: list('struct', schema),
      3: i64(this.rows),
      4: list('struct', this.rowGroups),
      5: metadata.length > 0 ? list('struct', metadata) : undefined,
      6: binary('lakewatt parquet writer'),
    });
    const length = Buffer.alloc(4);
    length.writeUInt32LE(footer.length);
    await this.emit(Buffer.concat([footer, length, MAGIC]));
  }
}
