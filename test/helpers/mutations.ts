/** Random damage to a file's bytes, for the validation engine's property tests. */
import fc from 'fast-check';

export type Mutation = (bytes: Buffer) => Buffer;

/** A byte overwritten, a short text inserted, a run of bytes deleted, or the file cut short. */
export const byteEdits: ReadonlyArray<fc.Arbitrary<Mutation>> = [
  fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }).map(({ at, byte }) => (b: Buffer) => {
    const copy = Buffer.from(b);
    copy[at % copy.length] = byte;
    return copy;
  }),
  fc.record({ at: fc.nat(), text: fc.string({ maxLength: 8 }) }).map(({ at, text }) => (b: Buffer) => {
    const i = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, i), Buffer.from(text), b.subarray(i)]);
  }),
  fc
    .record({ at: fc.nat(), length: fc.integer({ min: 1, max: 30 }) })
    .map(({ at, length }) => (b: Buffer) => {
      const i = at % b.length;
      return Buffer.concat([b.subarray(0, i), b.subarray(i + length)]);
    }),
  fc.nat().map((at) => (b: Buffer) => b.subarray(0, at % (b.length + 1))),
];
