import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { duckdb, sqlString } from '../integration/databricks/lakeSupport';

/*
 * The live files of a Delta table's current version, read from its log without Spark: the last checkpoint
 * (single-part Parquet, read with DuckDB) and the JSON commits after it, with the rows each file's deletion
 * vector removes (https://github.com/delta-io/delta/blob/master/PROTOCOL.md#deletion-vectors). Enough for
 * the tables the pipeline writes in tests; a table with a multi-part or V2 checkpoint is refused.
 */

interface DeletionVector {
  storageType: string;
  pathOrInlineDv: string;
  offset?: number | null;
  sizeInBytes: number;
  cardinality: number;
}

export interface LiveFile {
  /** Absolute path of the Parquet file. */
  file: string;
  /** Row positions (0-based) the file's deletion vector removes; empty when it has none. */
  deleted: number[];
}

interface FileAction {
  path: string;
  deletionVector?: DeletionVector | null;
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const DV_MAGIC = 1681511377;

function z85Decode(text: string): Buffer {
  if (text.length % 5 !== 0) throw new Error(`Z85 text of length ${text.length}`);
  const out = Buffer.alloc((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const digit = Z85.indexOf(text[i + j]!);
      if (digit < 0) throw new Error(`not Z85: '${text[i + j]}'`);
      value = value * 85 + digit;
    }
    out.writeUInt32BE(value, (i / 5) * 4);
  }
  return out;
}

/** The values of one 32-bit Roaring bitmap in the portable format at `pos`; returns them and the end. */
function roaring32(data: Buffer, start: number, high: number, into: number[]): number {
  let pos = start;
  const cookie = data.readUInt32LE(pos);
  let count: number;
  let runs: Buffer | undefined;
  if ((cookie & 0xffff) === 12347) {
    count = (cookie >>> 16) + 1;
    runs = data.subarray(pos + 4, pos + 4 + Math.ceil(count / 8));
    pos += 4 + runs.length;
  } else if (cookie === 12346) {
    count = data.readUInt32LE(pos + 4);
    pos += 8;
  } else {
    throw new Error(`not a portable Roaring bitmap (cookie ${cookie})`);
  }
  const headers = Array.from({ length: count }, (_, i) => ({
    key: data.readUInt16LE(pos + 4 * i),
    cardinality: data.readUInt16LE(pos + 4 * i + 2) + 1,
  }));
  pos += 4 * count;
  if (!runs || count >= 4) pos += 4 * count; // the container offsets
  headers.forEach(({ key, cardinality }, i) => {
    const base = high + key * 65_536;
    if (runs && (runs[i >> 3]! & (1 << (i & 7))) !== 0) {
      const n = data.readUInt16LE(pos);
      pos += 2;
      for (let r = 0; r < n; r++, pos += 4) {
        const first = data.readUInt16LE(pos);
        const length = data.readUInt16LE(pos + 2);
        for (let v = first; v <= first + length; v++) into.push(base + v);
      }
    } else if (cardinality <= 4096) {
      for (let v = 0; v < cardinality; v++, pos += 2) into.push(base + data.readUInt16LE(pos));
    } else {
      for (let byte = 0; byte < 8192; byte++, pos++) {
        const bits = data[pos]!;
        for (let bit = 0; bit < 8; bit++) if (bits & (1 << bit)) into.push(base + byte * 8 + bit);
      }
    }
  });
  return pos;
}

async function deletedRows(tableDir: string, dv: DeletionVector): Promise<number[]> {
  let data: Buffer;
  if (dv.storageType === 'i') {
    data = z85Decode(dv.pathOrInlineDv).subarray(0, dv.sizeInBytes);
  } else {
    let file: string;
    if (dv.storageType === 'u') {
      const prefix = dv.pathOrInlineDv.slice(0, -20);
      const uuid = z85Decode(dv.pathOrInlineDv.slice(-20)).toString('hex');
      const name = `deletion_vector_${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}.bin`;
      file = path.join(tableDir, prefix, name);
    } else if (dv.storageType === 'p') {
      file = dv.pathOrInlineDv.startsWith('file:') ? fileURLToPath(dv.pathOrInlineDv) : dv.pathOrInlineDv;
    } else {
      throw new Error(`${tableDir}: deletion vector storage type '${dv.storageType}'`);
    }
    const bytes = await fs.readFile(file);
    const offset = dv.offset ?? 1;
    const size = bytes.readUInt32BE(offset);
    data = bytes.subarray(offset + 4, offset + 4 + size);
  }
  if (data.readUInt32LE(0) !== DV_MAGIC) throw new Error(`${tableDir}: not a deletion vector`);
  const bitmaps = Number(data.readBigUInt64LE(4));
  const rows: number[] = [];
  let pos = 12;
  for (let i = 0; i < bitmaps; i++) {
    const high = data.readUInt32LE(pos) * 2 ** 32;
    pos = roaring32(data, pos + 4, high, rows);
  }
  if (rows.length !== dv.cardinality) {
    throw new Error(
      `${tableDir}: a deletion vector holds ${rows.length} rows, its descriptor says ${dv.cardinality}`,
    );
  }
  return rows;
}

/** The live data files of the table's current version and the rows their deletion vectors remove. */
export async function liveFiles(tableDir: string): Promise<LiveFile[]> {
  const logDir = path.join(tableDir, '_delta_log');
  // Hidden names are the local file system's checksums (.<name>.crc).
  const names = (await fs.readdir(logDir)).filter((n) => !n.startsWith('.')).sort();
  const checkpoints = names.filter((n) => /^\d{20}\.checkpoint\.parquet$/.test(n));
  if (names.some((n) => n.includes('.checkpoint.') && !checkpoints.includes(n))) {
    throw new Error(`${tableDir}: only single-part classic checkpoints are read here`);
  }
  const live = new Map<string, FileAction>();
  let after = -1;
  const checkpoint = checkpoints.at(-1);
  if (checkpoint) {
    after = Number(checkpoint.slice(0, 20));
    const rows = await duckdb(
      `SELECT "add".path AS path, to_json("add".deletionVector) AS dv
         FROM read_parquet(${sqlString(path.join(logDir, checkpoint))}) WHERE "add" IS NOT NULL`,
    );
    for (const row of rows) {
      const dv = typeof row.dv === 'string' ? (JSON.parse(row.dv) as DeletionVector | null) : null;
      live.set(String(row.path), { path: String(row.path), deletionVector: dv });
    }
  }
  for (const name of names.filter((n) => /^\d{20}\.json$/.test(n) && Number(n.slice(0, 20)) > after)) {
    const actions = (await fs.readFile(path.join(logDir, name), 'utf8'))
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as { add?: FileAction; remove?: FileAction });
    // Removes first: a commit that swaps a file's deletion vector removes the file and adds it again.
    for (const action of actions) if (action.remove) live.delete(action.remove.path);
    for (const action of actions) if (action.add) live.set(action.add.path, action.add);
  }
  return Promise.all(
    [...live.values()].map(async (action) => ({
      file: path.join(tableDir, decodeURIComponent(action.path)),
      deleted: action.deletionVector ? await deletedRows(tableDir, action.deletionVector) : [],
    })),
  );
}
