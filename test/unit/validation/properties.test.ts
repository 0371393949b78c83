import fc from 'fast-check';

import { byteEdits, type Mutation } from '../../helpers/mutations';
import { CANONICAL_HEADER, contractOf, validate } from '../../helpers/validation';

const canonical = contractOf({ max_rejected_share: 1 });

const validRow = fc
  .record({
    meter: fc.constantFrom('M1', 'M2', 'M3'),
    slot: fc.integer({ min: 0, max: 200 }),
    channel: fc.constantFrom('import', 'export'),
    kwh: fc.integer({ min: 0, max: 5000 }).map((n) => n / 1000),
    quality: fc.constantFrom('actual', 'estimated', 'substituted', 'missing'),
  })
  .map(({ meter, slot, channel, kwh, quality }) => {
    const start = new Date(Date.UTC(2025, 0, 1) + slot * 1_800_000).toISOString().replace('.000Z', 'Z');
    return `${meter},${start},30,${channel},${kwh},${quality}`;
  });

const validFile = fc
  .array(validRow, { minLength: 1, maxLength: 40 })
  .map((rows) => `${CANONICAL_HEADER}\n${rows.join('\n')}\n`);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  ...byteEdits,
  fc.constantFrom<Mutation>(
    (b) => Buffer.from(b.toString('utf8').replace(/\n/g, '\r\n')),
    (b) => Buffer.from(b.toString('utf8').replace(/,/g, ';')),
    (b) => Buffer.concat([b, b.subarray(b.indexOf(10) + 1)]),
  ),
);

describe('validation engine properties', () => {
  it('when valid files are randomly mutated, then the engine never crashes and every row is accounted for', async () => {
    await fc.assert(
      fc.asyncProperty(
        validFile,
        fc.array(mutation, { maxLength: 4 }),
        fc.integer({ min: 1, max: 64 }),
        async (file, mutations, chunkSize) => {
          const bytes = mutations.reduce<Buffer>((b, mutate) => mutate(b), Buffer.from(file));
          const { report, rows, rejected } = await validate(canonical, bytes, { chunkSize });
          const c = report.counts;
          expect(c.rowsRead).toBe(c.rowsValid + c.rowsRejected + c.duplicatesDropped);
          expect(rows).toHaveLength(c.rowsValid);
          expect(rejected.reduce((sum, r) => sum + r.rows, 0)).toBe(c.rowsRejected);
          if (report.verdict === 'rejected') expect(report.reasons.length).toBeGreaterThan(0);
          for (const row of rejected) expect(row.reasons.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('when a valid file is split into chunks of any size, then the staged rows are the same', async () => {
    await fc.assert(
      fc.asyncProperty(validFile, fc.integer({ min: 1, max: 97 }), async (file, chunkSize) => {
        const whole = await validate(canonical, file, { chunkSize: 1 << 20 });
        const split = await validate(canonical, file, { chunkSize });
        expect(split.rows).toEqual(whole.rows);
        expect(split.report.counts).toEqual(whole.report.counts);
      }),
      { numRuns: 100 },
    );
  });
});
