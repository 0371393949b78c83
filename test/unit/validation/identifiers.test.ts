import { parseSourceContract, sourceContractSchema } from '../../../lib/contracts/sources';
import { ContractError } from '../../../lib/errors';
import { CANONICAL_HEADER, contractOf, csv, validate } from '../../helpers/validation';

const canonical = contractOf({});
const REST = ',2025-01-01T00:00:00Z,30,import,1,actual';

/** The reasons the row with meter id `id` is rejected with: [code, message] pairs. */
async function reasonsOf(id: string, contract = canonical): Promise<Array<[string, string]>> {
  const { rejected } = await validate(contract, csv(CANONICAL_HEADER, `${id}${REST}`));
  return rejected.flatMap((r) => r.reasons.map((reason): [string, string] => [reason.code, reason.message]));
}

describe('identifier rules', () => {
  it.each([
    ['=', '=1+1'],
    ['+', '+41-1'],
    ['-', '-2+3'],
    ['@', '@SUM(A1)'],
  ])('when a meter id starts with %s, then the row is rejected with ID_FORMULA_PREFIX', async (_, id) => {
    expect((await reasonsOf(id)).map(([code]) => code)).toEqual(['ID_FORMULA_PREFIX']);
  });

  it.each([
    ['U+202E (right-to-left override)', 'MTR\u202E1-RTL'],
    ['U+2066 (left-to-right isolate)', 'MTR\u20661'],
    ['U+200F (right-to-left mark)', 'MTR-1\u200F'],
  ])('when a meter id holds %s, then the row is rejected with ID_BIDI_CONTROL', async (_, id) => {
    expect((await reasonsOf(id)).map(([code]) => code)).toEqual(['ID_BIDI_CONTROL']);
  });

  it.each([
    ['U+200B (zero-width space)', 'MTR\u200B1'],
    ['U+2060 (word joiner)', 'MTR\u20601'],
    ['U+FEFF (zero-width no-break space)', 'MTR-\uFEFF1'],
  ])('when a meter id holds %s, then the row is rejected with ID_INVISIBLE_CHARACTER', async (_, id) => {
    expect((await reasonsOf(id)).map(([code]) => code)).toEqual(['ID_INVISIBLE_CHARACTER']);
  });

  it('when a rejected id holds invisible characters, then the message shows them escaped, never raw', async () => {
    const [[, message]] = (await reasonsOf('MTR\u202E1')) as [[string, string]];

    expect(message).toBe("meter_id 'MTR\\u{202E}1' contains a bidirectional control character");
  });

  it('when a meter id is in decomposed form (NFD), then it is staged in composed form (NFC)', async () => {
    const { rows, rejected } = await validate(canonical, csv(CANONICAL_HEADER, `Za\u0308hler-1${REST}`));

    expect(rejected).toEqual([]);
    expect(rows.map((row) => row.meter_id)).toEqual(['Z\u00E4hler-1']);
  });

  it('when a meter id has a hyphen or a plus inside, then it is valid', async () => {
    const { rejected } = await validate(canonical, csv(CANONICAL_HEADER, `MTR-1+2${REST}`, `0123@4${REST}`));

    expect(rejected).toEqual([]);
  });

  it('when the contract declares an id pattern, then a meter id matching only part of it is rejected with ID_PATTERN_MISMATCH', async () => {
    const contract = contractOf({ id_patterns: { meter_id: '[0-9]{13}' } });

    expect(await reasonsOf('1234567890123', contract)).toEqual([]);
    expect(await reasonsOf('X1234567890123', contract)).toEqual([
      ['ID_PATTERN_MISMATCH', "meter_id 'X1234567890123' does not match the source contract's id pattern"],
    ]);
  });

  it('when a contract declares an id pattern for a column its dataset lacks, or one that is not a regular expression, then it is refused', () => {
    const base = sourceContractSchema.parse(contractOf({}));
    expect(() =>
      parseSourceContract({ ...base, id_patterns: { contract_id: 'C[0-9]+' } }, 'contract.yaml'),
    ).toThrow(/id_patterns.*contract_id|meter_readings has no column contract_id/);
    expect(() =>
      parseSourceContract({ ...base, id_patterns: { meter_id: '([0-9]' } }, 'contract.yaml'),
    ).toThrow(ContractError);
  });
});
