/**
 * The Thrift compact protocol, write side only, for Parquet page headers and file metadata.
 * Only what Parquet's metadata needs: i32/i64 (zigzag varints), bool, binary, lists and nested structs.
 */

const enum CompactType {
  BooleanTrue = 1,
  BooleanFalse = 2,
  I32 = 5,
  I64 = 6,
  Binary = 8,
  List = 9,
  Struct = 12,
}

export type ThriftValue =
  | { t: 'i32'; v: number }
  | { t: 'i64'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'binary'; v: string | Uint8Array }
  | { t: 'struct'; v: ThriftStruct }
  | { t: 'list'; elem: 'i32' | 'binary' | 'struct'; v: Array<number | string | ThriftStruct | Uint8Array> };

/** Field id → value; absent (undefined) fields are not written. */
export type ThriftStruct = Record<number, ThriftValue | undefined>;

export const i32 = (v: number): ThriftValue => ({ t: 'i32', v });
export const i64 = (v: number): ThriftValue => ({ t: 'i64', v });
export const bool = (v: boolean): ThriftValue => ({ t: 'bool', v });
export const binary = (v: string | Uint8Array): ThriftValue => ({ t: 'binary', v });
export const struct = (v: ThriftStruct): ThriftValue => ({ t: 'struct', v });
/** A list; struct elements may be given already encoded (`encodeStruct` output), to keep them compact. */
export const list = (
  elem: 'i32' | 'binary' | 'struct',
  v: Array<number | string | ThriftStruct | Uint8Array>,
): ThriftValue => ({
  t: 'list',
  elem,
  v,
});

class ByteSink {
  bytes: number[] = [];

  byte(b: number): void {
    this.bytes.push(b & 0xff);
  }

  /** Unsigned varint of a non-negative integer up to 2^53. */
  varint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }

  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  raw(data: Uint8Array): void {
    for (const b of data) this.bytes.push(b);
  }
}

const ELEMENT_TYPE = {
  i32: CompactType.I32,
  binary: CompactType.Binary,
  struct: CompactType.Struct,
} as const;

function writeBinary(sink: ByteSink, value: string | Uint8Array): void {
  const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  sink.varint(data.length);
  sink.raw(data);
}

function writeStruct(sink: ByteSink, fields: ThriftStruct): void {
  let lastId = 0;
  const ids = Object.keys(fields)
    .map(Number)
    .sort((a, b) => a - b);
  for (const id of ids) {
    const field = fields[id];
    if (field === undefined) continue;
    const type =
      field.t === 'bool'
        ? field.v
          ? CompactType.BooleanTrue
          : CompactType.BooleanFalse
        : field.t === 'i32'
          ? CompactType.I32
          : field.t === 'i64'
            ? CompactType.I64
            : field.t === 'binary'
              ? CompactType.Binary
              : field.t === 'list'
                ? CompactType.List
                : CompactType.Struct;
    const delta = id - lastId;
    if (delta > 0 && delta <= 15) {
      sink.byte((delta << 4) | type);
    } else {
      sink.byte(type);
      sink.zigzag(id);
    }
    lastId = id;
    switch (field.t) {
      case 'bool':
        break;
      case 'i32':
      case 'i64':
        sink.zigzag(field.v);
        break;
      case 'binary':
        writeBinary(sink, field.v);
        break;
      case 'struct':
        writeStruct(sink, field.v);
        break;
      case 'list': {
        const size = field.v.length;
        const elemType = ELEMENT_TYPE[field.elem];
        if (size < 15) sink.byte((size << 4) | elemType);
        else {
          sink.byte(0xf0 | elemType);
          sink.varint(size);
        }
        for (const item of field.v) {
          if (field.elem === 'i32') sink.zigzag(item as number);
          else if (field.elem === 'binary') writeBinary(sink, item as string);
          else if (item instanceof Uint8Array) sink.raw(item);
          else writeStruct(sink, item as ThriftStruct);
        }
        break;
      }
    }
  }
  sink.byte(0);
}

/** Serialises one top-level struct. */
export function encodeStruct(fields: ThriftStruct): Buffer {
  const sink = new ByteSink();
  writeStruct(sink, fields);
  return Buffer.from(sink.bytes);
}
