import fc from 'fast-check';

import { CsvFieldBounds } from '../../../lib/formats/byteCsv';
import { splitCsvLine } from '../../../lib/formats/csv';
import { setInt64 } from '../../../lib/formats/parquet/ParquetWriter';
import { isMultipleOf } from '../../../lib/validation/values';

/**
 * The round-2 speed-ups of decision 0033 replace an operation by a faster one that must give the same answer
 * for every input: each is held here to the expression it replaced.
 */

/** The int64 store the Parquet writer used before `setInt64`. */
function previousInt64(view: DataView, offset: number, value: number): void {
  const low = value % 0x1_0000_0000;
  view.setUint32(offset, (low < 0 ? low + 0x1_0000_0000 : low) >>> 0, true);
  view.setInt32(offset + 4, Math.floor(value / 0x1_0000_0000) | 0, true);
}

const EDGES = [0, -0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 32, -(2 ** 32), 2 ** 32 - 1, 2 ** 52, 2 ** 53 - 1];
const SPECIAL = [NaN, Infinity, -Infinity, 0.5, -0.5, 2 ** 53, -(2 ** 53), 2 ** 60];

const anyNumber = fc.oneof(
  fc.constantFrom(...EDGES, ...EDGES.map((v) => -v), ...SPECIAL),
  fc.maxSafeInteger(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.double(),
  // Epoch milliseconds and microseconds of real interval starts.
  fc.integer({ min: 0, max: 4_102_444_800 }).map((seconds) => seconds * 1000),
  fc.integer({ min: 0, max: 4_102_444_800 }).map((seconds) => seconds * 1_000_000),
);

describe('exact arithmetic of the byte path', () => {
  it('when setInt64 stores a number, then its bytes are those of the previous int64 store', () => {
    const expected = new DataView(new ArrayBuffer(8));
    const actual = new DataView(new ArrayBuffer(8));
    fc.assert(
      fc.property(anyNumber, (value) => {
        previousInt64(expected, 0, value);
        setInt64(actual, 0, value);
        expect(actual.getBigInt64(0, true)).toBe(expected.getBigInt64(0, true));
      }),
      { numRuns: 5000 },
    );
    for (const value of [...EDGES, ...SPECIAL]) {
      previousInt64(expected, 0, value);
      setInt64(actual, 0, value);
      expect(actual.getBigInt64(0, true)).toBe(expected.getBigInt64(0, true));
    }
  });

  it('when a safe integer is stored by setInt64, then it reads back as that integer', () => {
    const view = new DataView(new ArrayBuffer(8));
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        setInt64(view, 0, value);
        expect(view.getBigInt64(0, true)).toBe(BigInt(value));
      }),
    );
  });

  it('when isMultipleOf is asked, then it answers as `value % step === 0` does', () => {
    const steps = fc.oneof(
      fc.constantFrom(60_000, 300_000, 900_000, 1_800_000, 3_600_000, 1, 5, 15, 30, 60, 0, -30, 0.5, NaN),
      fc.integer({ min: 1, max: 2 ** 31 }),
      fc.integer({ min: 2 ** 31, max: 2 ** 40 }),
      fc.double(),
    );
    fc.assert(
      fc.property(anyNumber, steps, (value, step) => {
        expect(isMultipleOf(value, step)).toBe(value % step === 0);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 20), max: 2 ** 20 }),
        fc.constantFrom(1, 5, 15, 30, 60),
        (k, step) => {
          const minute = 60_000;
          expect(isMultipleOf(k * step * minute, step * minute)).toBe(true);
          expect(isMultipleOf(k * step * minute + 1, step * minute)).toBe(false);
        },
      ),
    );
  });

  it('when a line has more fields than the bounds hold, then they grow and split it as the text path does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z0-9.;-]{0,4}$/), { minLength: 1, maxLength: 300 }),
        fc.nat({ max: 3 }),
        (fields, offset) => {
          const line = fields.join(',');
          const bytes = Buffer.concat([Buffer.alloc(offset, 0x41), Buffer.from(line)]);
          const bounds = new CsvFieldBounds(0x2c, 0x22);
          const count = bounds.split(bytes, offset, bytes.length);
          const expected: string[] = [];
          expect(count).toBe(splitCsvLine(line, ',', '"', expected));
          const actual = Array.from({ length: count }, (_, i) =>
            bytes.toString('utf8', bounds.starts[i], bounds.ends[i]),
          );
          expect(actual).toEqual(expected.slice(0, count));
        },
      ),
    );
  });
});
