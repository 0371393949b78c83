import type { SourceContract } from '../../../lib/contracts/sources';
import {
  codesOf,
  entsoeAcknowledgement,
  entsoeDocument,
  priceContract,
  priceRows,
  runDocument,
  type SeriesSpec,
} from './priceDocuments';

const FILE = 'DE-LU_2025-10-01.xml';
let contract: SourceContract;

beforeAll(async () => {
  contract = await priceContract('entsoe');
});

const quarterHours = (points: SeriesSpec['points'], extra: Partial<SeriesSpec> = {}): SeriesSpec => ({
  start: '2025-09-30T22:00Z',
  end: '2025-09-30T23:30Z',
  resolution: 'PT15M',
  points,
  ...extra,
});

/** 1-based line of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((line) => line.includes(needle)) + 1;
}

describe('ENTSO-E A44 XML (prices/entsoe)', () => {
  it('when an A03 curve leaves positions out, then each repeats the previous price up to the period end', async () => {
    const xml = entsoeDocument([
      quarterHours([
        [1, '2.07'],
        [2, '2'],
        [5, '1.99'],
      ]),
    ]);
    const { rows, report } = await runDocument(contract, xml, FILE);
    expect(priceRows(rows)).toEqual([
      { zone: 'DE-LU', start: '2025-09-30T22:00:00.000Z', minutes: 15, price: 2.07 },
      { zone: 'DE-LU', start: '2025-09-30T22:15:00.000Z', minutes: 15, price: 2 },
      { zone: 'DE-LU', start: '2025-09-30T22:30:00.000Z', minutes: 15, price: 2 },
      { zone: 'DE-LU', start: '2025-09-30T22:45:00.000Z', minutes: 15, price: 2 },
      { zone: 'DE-LU', start: '2025-09-30T23:00:00.000Z', minutes: 15, price: 1.99 },
      { zone: 'DE-LU', start: '2025-09-30T23:15:00.000Z', minutes: 15, price: 1.99 },
    ]);
    expect(report.verdict).toBe('accepted');
    expect(report.notes).toContain('3 A03 positions forward-filled from the previous point');
  });

  it('when a position is forward-filled, then its source line is the line of the point it repeats', async () => {
    const xml = entsoeDocument([
      quarterHours([
        [1, '10'],
        [2, '11'],
      ]),
    ]);
    const { rows } = await runDocument(contract, xml, FILE);
    const second = lineOf(xml, '<position>2</position>');
    expect(rows.map((row) => row.source_line)).toEqual([
      lineOf(xml, '<position>1</position>'),
      second,
      second,
      second,
      second,
      second,
    ]);
  });

  it('when an A01 hourly curve lists every position, then each becomes one row with lineage and provider', async () => {
    const xml = entsoeDocument([
      {
        curveType: 'A01',
        start: '2025-09-30T22:00Z',
        end: '2025-10-01T01:00Z',
        resolution: 'PT60M',
        points: [
          [1, '30'],
          [2, '-5.5'],
          [3, '0'],
        ],
      },
    ]);
    const { rows } = await runDocument(contract, xml, FILE);
    expect(rows[1]).toEqual({
      bidding_zone: 'DE-LU',
      interval_start: '2025-09-30T23:00:00.000Z',
      resolution_minutes: 60,
      price_eur_per_mwh: -5.5,
      provider: 'entsoe',
      published_at: '2025-09-30T11:02:03.000Z',
      source_system: 'entsoe',
      source_file: `bronze/landing/prices/entsoe/2025/10/01/${FILE}`,
      source_etag: '0x1',
      source_line: lineOf(xml, '<position>2</position>'),
      ingest_instance_id: 'instance-1',
      ingested_at: '2026-06-01T00:00:00.000Z',
    });
    expect(rows.map((row) => [row.interval_start, row.price_eur_per_mwh])).toEqual([
      ['2025-09-30T22:00:00.000Z', 30],
      ['2025-09-30T23:00:00.000Z', -5.5],
      ['2025-10-01T00:00:00.000Z', 0],
    ]);
  });

  it('when an A01 curve misses a position, then it is counted as a gap and nothing is invented', async () => {
    const xml = entsoeDocument([
      {
        curveType: 'A01',
        start: '2025-09-30T22:00Z',
        end: '2025-10-01T02:00Z',
        resolution: 'PT60M',
        points: [
          [1, '30'],
          [2, '31'],
          [4, '33'],
        ],
      },
    ]);
    const { rows, report } = await runDocument(contract, xml, FILE);
    expect(rows.map((row) => row.interval_start)).toEqual([
      '2025-09-30T22:00:00.000Z',
      '2025-09-30T23:00:00.000Z',
      '2025-10-01T01:00:00.000Z',
    ]);
    expect(report.counts.emptyValues).toBe(1);
    expect(report.notes.some((note) => note.includes('1 of 4 positions missing'))).toBe(true);
  });

  it('when both PT60M and PT15M series cover the day, then both are staged under their own resolution', async () => {
    const xml = entsoeDocument([
      {
        curveType: 'A01',
        start: '2025-09-30T22:00Z',
        end: '2025-09-30T23:00Z',
        resolution: 'PT60M',
        points: [[1, '40']],
      },
      quarterHours([[1, '41']], { end: '2025-09-30T23:00Z' }),
    ]);
    const { rows, report } = await runDocument(contract, xml, FILE);
    expect(rows.map((row) => [row.resolution_minutes, row.interval_start, row.price_eur_per_mwh])).toEqual([
      [60, '2025-09-30T22:00:00.000Z', 40],
      [15, '2025-09-30T22:00:00.000Z', 41],
      [15, '2025-09-30T22:15:00.000Z', 41],
      [15, '2025-09-30T22:30:00.000Z', 41],
      [15, '2025-09-30T22:45:00.000Z', 41],
    ]);
    expect(report.verdict).toBe('accepted');
  });

  it('when DE-LU publishes an EXAA series (classification sequence 2), then only sequence 1 is staged', async () => {
    const xml = entsoeDocument([
      quarterHours([[1, '99']], { sequence: 2, end: '2025-09-30T22:15Z' }),
      quarterHours([[1, '50']], { sequence: 1, end: '2025-09-30T22:15Z' }),
    ]);
    const { rows, report } = await runDocument(contract, xml, FILE);
    expect(rows.map((row) => row.price_eur_per_mwh)).toEqual([50]);
    expect(report.notes.some((note) => note.includes('classificationSequence 2 skipped'))).toBe(true);
  });

  it('when the EIC code is unknown, then the period is one rejection as UNKNOWN_BIDDING_ZONE counting its intervals', async () => {
    const xml = entsoeDocument([quarterHours([[1, '10']], { eic: '10YXX-UNKNOWN--Z' })]);
    const { rows, rejected, report } = await runDocument(contract, xml, FILE);
    expect(rows).toEqual([]);
    expect(rejected.map((row) => [row.rows, row.reasons.map((reason) => reason.code)])).toEqual([
      [6, ['UNKNOWN_BIDDING_ZONE']],
    ]);
    expect([report.counts.rowsRead, report.counts.rowsRejected, report.verdict]).toEqual([6, 6, 'rejected']);
    expect(report.reasons.map((reason) => reason.code)).toEqual(['REJECTED_SHARE_EXCEEDED']);
  });

  it.each([
    ['the currency is not EUR', 'PRICE_CURRENCY_UNSUPPORTED', { currency: 'PLN' }],
    ['the price unit is not MWH', 'PRICE_UNIT_UNSUPPORTED', { unit: 'KWH' }],
  ])('when %s, then the file is rejected as %s', async (_case, code, extra) => {
    const xml = entsoeDocument([quarterHours([[1, '10']], extra)]);
    const { report, rows } = await runDocument(contract, xml, FILE);
    expect(rows).toEqual([]);
    expect([report.verdict, report.reasons.map((reason) => reason.code)]).toEqual(['rejected', [code]]);
  });

  it('when ENTSO-E answered "no matching data" (reason 999), then the file is rejected as PRICES_NOT_PUBLISHED', async () => {
    const xml = entsoeAcknowledgement(
      '999',
      'No matching data found for Data item Day-ahead Prices [12.1.D]',
    );
    const { report } = await runDocument(contract, xml, FILE);
    expect(report.reasons.map((reason) => reason.code)).toEqual(['PRICES_NOT_PUBLISHED']);
  });

  it('when ENTSO-E answered another acknowledgement, then the file is rejected as PROVIDER_ERROR_DOCUMENT', async () => {
    const xml = entsoeAcknowledgement('999', 'The amount of requested data exceeds allowed limit');
    const { report } = await runDocument(contract, xml, FILE);
    expect(report.reasons.map((reason) => reason.code)).toEqual(['PROVIDER_ERROR_DOCUMENT']);
  });

  it('when the document declares a DTD with entities, then it is rejected as XML_DTD_FORBIDDEN without expansion', async () => {
    const laughs = [
      '<!DOCTYPE lolz [',
      '  <!ENTITY lol "lol">',
      '  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">',
      ']>',
    ].join('\n');
    const xml = entsoeDocument([quarterHours([[1, '&lol2;']])], laughs);
    const { report, rows, rejected } = await runDocument(contract, xml, FILE);
    expect([rows.length, rejected.length]).toEqual([0, 0]);
    expect(report.reasons).toEqual([
      {
        code: 'XML_DTD_FORBIDDEN',
        message: 'the XML declares a DTD or entities, which are refused: <!DOCTYPE at line 2',
      },
    ]);
  });

  it('when the resolution is PT30M, then the whole period is one rejection counting its intervals', async () => {
    const xml = entsoeDocument([quarterHours([[1, '10']], { resolution: 'PT30M' })]);
    const { rejected } = await runDocument(contract, xml, FILE);
    expect(rejected.map((row) => [row.rows, row.reasons.map((reason) => reason.code)])).toEqual([
      [3, ['INVALID_INTERVAL']],
    ]);
  });

  it('when a position lies beyond the period, then that point is rejected as POSITION_OUT_OF_RANGE', async () => {
    const xml = entsoeDocument([
      quarterHours([
        [1, '10'],
        [7, '12'],
      ]),
    ]);
    const { rows, rejected } = await runDocument(contract, xml, FILE);
    expect(rows).toHaveLength(6);
    expect(codesOf(rejected)).toEqual(['POSITION_OUT_OF_RANGE']);
  });

  it('when a price is not a number, then its row is rejected as INVALID_NUMBER and the others are staged', async () => {
    const xml = entsoeDocument([
      quarterHours(
        [
          [1, '10'],
          [2, 'n/a'],
          [3, '12'],
          [4, '13'],
          [5, '14'],
          [6, '15'],
        ],
        { curveType: 'A01' },
      ),
    ]);
    const { rows, rejected } = await runDocument(contract, xml, FILE);
    expect(rows.map((row) => row.price_eur_per_mwh)).toEqual([10, 12, 13, 14, 15]);
    expect(codesOf(rejected)).toEqual(['INVALID_NUMBER']);
  });

  it('when the document is larger than format.max_bytes, then it is rejected as DOCUMENT_TOO_LARGE', async () => {
    const small = { ...contract, format: { ...contract.format, max_bytes: 1000 } } as SourceContract;
    const xml = entsoeDocument([quarterHours([[1, '10']])]);
    expect(Buffer.byteLength(xml)).toBeGreaterThan(1000);
    const { report } = await runDocument(small, xml, FILE);
    expect(report.reasons.map((reason) => reason.code)).toEqual(['DOCUMENT_TOO_LARGE']);
  });

  it('when the tags do not nest, then the file is rejected as DOCUMENT_MALFORMED', async () => {
    const xml = entsoeDocument([quarterHours([[1, '10']])]).replace('</Period>', '</Perod>');
    const { report } = await runDocument(contract, xml, FILE);
    expect(report.reasons.map((reason) => reason.code)).toEqual(['DOCUMENT_MALFORMED']);
  });

  it('when an HTML page is landed as the XML, then it is rejected as HTML_CONTENT', async () => {
    const { report } = await runDocument(
      contract,
      '<!DOCTYPE html><html><body>Maintenance</body></html>',
      FILE,
    );
    expect(report.reasons.map((reason) => reason.code)).toEqual(['HTML_CONTENT']);
  });

  it('when the root element is another document, then the file is rejected as DOCUMENT_UNRECOGNISED', async () => {
    const { report } = await runDocument(contract, '<?xml version="1.0"?><GL_MarketDocument/>', FILE);
    expect(report.reasons.map((reason) => reason.code)).toEqual(['DOCUMENT_UNRECOGNISED']);
  });
});
