import { gzipSync } from 'node:zlib';

import type { SparkType } from '../../contracts/datasets';
import { Bytes, encodeRleHybrid, setInt64 } from './bytes';
import type { ColumnBatch, ColumnSpec } from './columnBatch';
import { encodeDeltaBinaryPacked } from './deltaBinaryPacked';
import { NumberDictionary } from './numberDictionary';
import { binary, bool, encodeStruct, i32, i64, list, struct, type ThriftStruct } from './thrift';

/**
 * A small Parquet writer for flat schemas of primitive columns: the staged canonical files.
 *
 * It writes one row group per ColumnBatch, with one data page (v1) per column chunk. Strings are
 * dictionary-encoded while their dictionary stays small and plain otherwise. Number columns whose values
 * repeat (at most one new value in DICTIONARY_SHARE rows) are dictionary-encoded too; other INT32 / INT64
 * columns are DELTA_BINARY_PACKED (plain for a value the encoder cannot hold exactly), other doubles and
 * booleans plain.
 * Timestamps are INT64 microseconds adjusted to UTC (Spark's TimestampType), dates INT32 days.
 * Chosen over hyparquet-writer and parquet-wasm by measurement: docs/decisions/0004-parquet-writer.md.
 */

export { encodeRleHybrid, setInt64 } from './bytes';

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
  DeltaBinaryPacked = 5,
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
/** A numeric chunk is dictionary-encoded when at most one in this many of its rows holds a new value. */
const DICTIONARY_SHARE = 8;

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

/** A column chunk's pages as written, each after its header, with the sizes its metadata records. */
interface CompressedChunk {
  pages: Buffer[];
  encoding: Encoding;
  uncompressedSize: number;
  compressedSize: number;
  dictionaryPageSize: number;
}

/** A column chunk as encoded, before compression: its optional dictionary page and its data page. */
interface EncodedChunk {
  dictionary: { body: Buffer; count: number } | undefined;
  data: { body: Buffer; values: number; encoding: Encoding };
}

/**
 * A nullable column's definition levels (1: value, 0: null), length-prefixed, into `levels`; returns the
 * count of values. A column without nulls, or of nulls only, is one RLE run, written without a level array.
 */
function definitionLevels(batch: ColumnBatch, index: number, levels: Bytes): number {
  const n = batch.length;
  const strings = batch.strings[index];
  const nullFlags = batch.nulls[index];
  let present = 0;
  if (strings) {
    for (let r = 0; r < n; r++) if (strings[r] !== null && strings[r] !== undefined) present++;
  } else {
    for (let r = 0; r < n; r++) if (nullFlags?.[r] !== 1) present++;
  }
  const encoded = new Bytes(64);
  if (n >= 8 && (present === 0 || present === n)) {
    // What encodeRleHybrid writes for n equal levels: one run.
    encoded.varint(n << 1);
    encoded.byte(present === 0 ? 0 : 1);
  } else {
    const defs = new Uint32Array(n);
    for (let r = 0; r < n; r++) {
      const isNull = strings ? strings[r] === null || strings[r] === undefined : nullFlags?.[r] === 1;
      defs[r] = isNull ? 0 : 1;
    }
    encodeRleHybrid(defs, n, 1, encoded);
  }
  levels.uint32(encoded.length);
  levels.ensure(encoded.length);
  encoded.view().copy(levels.buffer, levels.length);
  levels.length += encoded.length;
  return present;
}

/**
 * A string column's `present` values into `values`: dictionary-encoded while the dictionary stays small
 * (its page returned), plain otherwise.
 */
function encodeStrings(
  strings: ReadonlyArray<string | null | undefined>,
  n: number,
  present: number,
  values: Bytes,
): { encoding: Encoding; dictionary?: EncodedChunk['dictionary'] } {
  if (present === 0) return { encoding: Encoding.Plain };
  // One string in every row (the lineage columns): a one-entry dictionary and one RLE run of index 0,
  // the bytes the loop below writes for it, without a lookup or an index per row.
  const first = strings[0];
  if (present === n && n >= 8 && first !== null && first !== undefined) {
    let r = 1;
    while (r < n && strings[r] === first) r++;
    if (r === n) {
      const dictionary = new Bytes(first.length * 3 + 16);
      dictionary.utf8(first);
      values.byte(1);
      values.varint(n << 1);
      values.byte(0);
      return {
        encoding: Encoding.PlainDictionary,
        dictionary: { body: dictionary.view(), count: 1 },
      };
    }
  }
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
      // The rest of the run at once: a meter's readings, a channel, most quality flags.
      let runEnd = r + 1;
      while (runEnd < n && strings[runEnd] === previous) runEnd++;
      indices.fill(previousId, k, k + runEnd - r);
      k += runEnd - r;
      r = runEnd - 1;
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
  if (useDictionary) {
    const dict = new Bytes(dictionaryBytes * 3 + 16);
    for (const s of dictionary.keys()) dict.utf8(s);
    const bitWidth = Math.max(1, Math.ceil(Math.log2(dictionary.size)));
    values.byte(bitWidth);
    encodeRleHybrid(indices, present, bitWidth, values);
    return {
      encoding: Encoding.PlainDictionary,
      dictionary: { body: dict.view(), count: dictionary.size },
    };
  }
  for (let r = 0; r < n; r++) {
    const s = strings[r];
    if (s !== null && s !== undefined) values.utf8(s);
  }
  return { encoding: Encoding.Plain };
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
  /** A nullable INT column's non-null values, and the delta encoder's block of deltas. */
  private compacted = new Float64Array(0);
  /** A numeric column's dictionary and its indices, reused from chunk to chunk. */
  private numbers: NumberDictionary | undefined;
  private indices = new Uint32Array(0);
  private readonly deltaScratch = new Float64Array(128);

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
    const strings = batch.strings[index];
    const levels = new Bytes(column.nullable ? 64 : 0);
    const present = column.nullable ? definitionLevels(batch, index, levels) : n;
    let encoded: Omit<EncodedChunk['data'], 'body' | 'values'> & { dictionary?: EncodedChunk['dictionary'] };
    if (strings) encoded = encodeStrings(strings, n, present, values);
    else encoded = this.encodeNumbers(batch, index, present, values);
    return {
      dictionary: encoded.dictionary,
      data: { body: Buffer.concat([levels.view(), values.view()]), values: n, encoding: encoded.encoding },
    };
  }

  /**
   * A numeric column's `present` values into `values`: dictionary-encoded when few are distinct, else
   * DELTA_BINARY_PACKED (integers) or plain; returns the encoding and the dictionary page.
   */
  private encodeNumbers(
    batch: ColumnBatch,
    index: number,
    present: number,
    values: Bytes,
  ): { encoding: Encoding; dictionary?: EncodedChunk['dictionary'] } {
    const column = this.columns[index]!;
    if (column.type !== 'boolean' && column.type !== 'string') {
      const dictionary = this.numberDictionary(batch, index, present, values);
      if (dictionary) return { encoding: Encoding.PlainDictionary, dictionary };
    }
    return { encoding: this.encodeNumbersWithoutDictionary(batch, index, present, values) };
  }

  /**
   * The dictionary page of a numeric column whose values repeat (at most one distinct value in
   * DICTIONARY_SHARE), with the indices written to `values`; undefined (nothing written) otherwise.
   * Entries are stored as a plain page stores values, so an INT32 value out of range throws as before.
   */
  private numberDictionary(
    batch: ColumnBatch,
    index: number,
    present: number,
    values: Bytes,
  ): EncodedChunk['dictionary'] {
    const column = this.columns[index]!;
    const n = batch.length;
    const limit = Math.max(1, Math.floor(n / DICTIONARY_SHARE));
    if (!this.numbers || this.numbers.capacity < limit) this.numbers = new NumberDictionary(limit);
    if (this.indices.length < present) this.indices = new Uint32Array(n);
    const dictionary = this.numbers;
    const indices = this.indices;
    if (present === 0 || !dictionary.build(batch.numbers[index]!, batch.nulls[index], n, indices, limit)) {
      return undefined;
    }
    const size = dictionary.size;
    const width = column.type === 'integer' || column.type === 'date' ? 4 : 8;
    const page = new Bytes(size * width + 16);
    const view = page.dataView();
    const factor = column.type === 'timestamp' ? 1000 : 1;
    for (let id = 0; id < size; id++) {
      const value = dictionary.values[id]!;
      if (column.type === 'double') view.setFloat64(page.length, value, true);
      else if (width === 8) setInt64(view, page.length, value * factor);
      else if ((value | 0) === value) view.setInt32(page.length, value, true);
      else page.buffer.writeInt32LE(value, page.length);
      page.length += width;
    }
    const bitWidth = Math.max(1, Math.ceil(Math.log2(size)));
    values.byte(bitWidth);
    encodeRleHybrid(indices, present, bitWidth, values);
    return { body: page.view(), count: size };
  }

  /** A numeric column's `present` values into `values` without a dictionary; returns their encoding. */
  private encodeNumbersWithoutDictionary(
    batch: ColumnBatch,
    index: number,
    present: number,
    values: Bytes,
  ): Encoding {
    const column = this.columns[index]!;
    const n = batch.length;
    const numbers = batch.numbers[index]!;
    const nullFlags = batch.nulls[index];
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
        return Encoding.Plain;
      }
      case 'timestamp':
      case 'long': {
        const factor = column.type === 'timestamp' ? 1000 : 1;
        if (this.encodeDelta(numbers, nullFlags, n, present, factor, false, values)) {
          return Encoding.DeltaBinaryPacked;
        }
        values.ensure(n * 8);
        const view = values.dataView();
        for (let r = 0; r < n; r++) {
          if (isNull(r)) continue;
          setInt64(view, values.length, numbers[r]! * factor);
          values.length += 8;
        }
        return Encoding.Plain;
      }
      case 'integer':
      case 'date': {
        if (this.encodeDelta(numbers, nullFlags, n, present, 1, true, values)) {
          return Encoding.DeltaBinaryPacked;
        }
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
        return Encoding.Plain;
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
        return Encoding.Plain;
      }
      case 'string':
        return Encoding.Plain;
    }
  }

  /** DELTA_BINARY_PACKED of the non-null values; false (nothing written) when one does not fit it. */
  private encodeDelta(
    numbers: Float64Array,
    nullFlags: Uint8Array | undefined,
    n: number,
    present: number,
    factor: number,
    int32: boolean,
    values: Bytes,
  ): boolean {
    let source: Float64Array = numbers;
    if (present < n) {
      source = this.compacted.length >= present ? this.compacted : (this.compacted = new Float64Array(n));
      let k = 0;
      for (let r = 0; r < n; r++) if (nullFlags?.[r] !== 1) source[k++] = numbers[r]!;
    }
    return encodeDeltaBinaryPacked(values, source, present, factor, int32, this.deltaScratch);
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
    return { pages, encoding: chunk.data.encoding, uncompressedSize, compressedSize, dictionaryPageSize };
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
        2: list('i32', [chunk.encoding, Encoding.Rle]),
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
