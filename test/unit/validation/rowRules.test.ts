import { CANONICAL_HEADER, contractOf, csv, validate } from '../../helpers/validation';

const canonical = contractOf({});

/** Validates one data row after the canonical header and returns the codes it was rejected with. */
async function codesOf(row: string, contract = canonical, now?: Date): Promise<string[]> {
  const { rejected, report } = await validate(contract, csv(CANONICAL_HEADER, row), { now });
  expect(report.counts.rowsRead).toBe(
    report.counts.rowsValid + report.counts.rowsRejected + report.counts.duplicatesDropped,
  );
  return rejected.flatMap((r) => r.reasons.map((reason) => reason.code));
}

describe('row-level rules (meter readings)', () => {
  it('when a row is valid, then it is staged with lineage and nothing is rejected', async () => {
    const { rows, rejected } = await validate(
      canonical,
      csv(CANONICAL_HEADER, 'MTR-1,2025-01-01T00:30:00Z,30,export,1.25,estimated'),
    );
    expect(rejected).toEqual([]);
    expect(rows).toEqual([
      {
        meter_id: 'MTR-1',
        interval_start: '2025-01-01T00:30:00.000Z',
        interval_minutes: 30,
        channel: 'export',
        kwh: 1.25,
        quality: 'estimated',
        source_quality: null,
        source_quality_reason: null,
        source_system: 'test',
        source_file: 'bronze/landing/test/file.csv',
        source_etag: '0x1',
        source_line: 2,
        ingest_instance_id: 'instance-1',
        ingested_at: '2026-06-01T00:00:00.000Z',
      },
    ]);
  });

  it.each([
    ['a required value is empty', ',2025-01-01T00:00:00Z,30,import,1,actual', 'REQUIRED_MISSING'],
    ['kWh is not a number', 'M1,2025-01-01T00:00:00Z,30,import,1.2.3,actual', 'INVALID_NUMBER'],
    ['kWh is hexadecimal', 'M1,2025-01-01T00:00:00Z,30,import,0x10,actual', 'INVALID_NUMBER'],
    ['the interval is not an integer', 'M1,2025-01-01T00:00:00Z,thirty,import,1,actual', 'INVALID_INTEGER'],
    ['the interval is 20 minutes', 'M1,2025-01-01T00:00:00Z,20,import,1,actual', 'INVALID_INTERVAL'],
    ['the channel is unknown', 'M1,2025-01-01T00:00:00Z,30,net,1,actual', 'INVALID_VALUE'],
    ['the quality is unknown', 'M1,2025-01-01T00:00:00Z,30,import,1,guessed', 'INVALID_VALUE'],
    ['the timestamp does not parse', 'M1,2025-13-01T00:00:00Z,30,import,1,actual', 'INVALID_TIMESTAMP'],
    ['the date does not exist', 'M1,2025-02-30T00:00:00Z,30,import,1,actual', 'INVALID_TIMESTAMP'],
    [
      'the start is off the 30-minute grid',
      'M1,2025-01-01T00:10:00Z,30,import,1,actual',
      'TIMESTAMP_MISALIGNED',
    ],
    ['the start has seconds', 'M1,2025-01-01T00:30:05Z,30,import,1,actual', 'TIMESTAMP_MISALIGNED'],
    ['the start is before 2000', 'M1,1999-12-31T23:30:00Z,30,import,1,actual', 'TIMESTAMP_OUT_OF_RANGE'],
    ['import energy is negative', 'M1,2025-01-01T00:00:00Z,30,import,-0.2,actual', 'NEGATIVE_VALUE'],
    ['export energy is negative', 'M1,2025-01-01T00:00:00Z,30,export,-0.2,actual', 'NEGATIVE_VALUE'],
    [
      'the value is above the default ceiling (100 kW)',
      'M1,2025-01-01T00:00:00Z,30,import,50.5,actual',
      'VALUE_ABOVE_CEILING',
    ],
    ['the row has too few fields', 'M1,2025-01-01T00:00:00Z,30,import,1', 'FIELD_COUNT_MISMATCH'],
    ['the quoting is broken', 'M1,"2025-01-01T00:00:00Z,30,import,1,actual', 'MALFORMED_ROW'],
  ])('when %s, then the row is rejected as %s', async (_case, row, code) => {
    expect(await codesOf(row)).toEqual([code]);
  });

  it('when a reading ends after now plus an hour, then it is rejected as TIMESTAMP_IN_FUTURE', async () => {
    const now = new Date('2025-01-01T00:00:00Z');
    expect(await codesOf('M1,2025-01-01T01:00:00Z,30,import,1,actual', canonical, now)).toEqual([
      'TIMESTAMP_IN_FUTURE',
    ]);
    expect(await codesOf('M1,2025-01-01T00:00:00Z,30,import,1,actual', canonical, now)).toEqual([]);
  });

  it('when several values are bad, then every reason is listed for the row', async () => {
    const { rejected } = await validate(
      canonical,
      csv(CANONICAL_HEADER, 'M1,yesterday,30,import,abc,actual'),
    );
    expect(rejected).toEqual([
      {
        line: 2,
        rows: 1,
        raw: 'M1,yesterday,30,import,abc,actual',
        reasons: [
          {
            code: 'INVALID_TIMESTAMP',
            message: "'yesterday' does not match iso8601",
            column: 'interval_start',
          },
          { code: 'INVALID_NUMBER', message: "kwh 'abc' is not a number", column: 'kwh' },
        ],
      },
    ]);
  });

  it('when a row repeats another exactly, then it is dropped and counted, not rejected', async () => {
    const row = 'M1,2025-01-01T00:00:00Z,30,import,1,actual';
    const { report, rows, rejected } = await validate(canonical, csv(CANONICAL_HEADER, row, row, row));
    expect([rows.length, rejected.length, report.counts.duplicatesDropped, report.verdict]).toEqual([
      1,
      0,
      2,
      'accepted',
    ]);
  });

  it('when a row repeats a key with a different value, then the later row is rejected naming the conflict', async () => {
    const { rows, rejected } = await validate(
      canonical,
      csv(
        CANONICAL_HEADER,
        'M1,2025-01-01T00:00:00Z,30,import,1,actual',
        'M1,2025-01-01T00:00:00Z,30,import,2,actual',
      ),
    );
    expect(rows.map((r) => r.kwh)).toEqual([1]);
    expect(rejected.map((r) => [r.line, r.reasons[0]?.code])).toEqual([[3, 'DUPLICATE_CONFLICT']]);
  });

  it('when the same interval appears on both channels, then both are kept', async () => {
    const { rows } = await validate(
      canonical,
      csv(
        CANONICAL_HEADER,
        'M1,2025-01-01T00:00:00Z,30,import,1,actual',
        'M1,2025-01-01T00:00:00Z,30,export,2,actual',
      ),
    );
    expect(rows.map((r) => r.channel)).toEqual(['import', 'export']);
  });

  it('when the source reports Wh with a decimal comma, then values are converted to kWh', async () => {
    const contract = contractOf({ format: { type: 'csv', delimiter: ';', decimal: ',' }, unit: 'Wh' });
    const { rows } = await validate(
      contract,
      'meter_id;interval_start;interval_minutes;channel;kwh;quality\nM1;2025-01-01T00:00:00Z;15;import;1250,5;actual\n',
    );
    expect(rows.map((r) => r.kwh)).toEqual([1.2505]);
  });

  it('when timestamps mark the interval end, then the start is one interval earlier', async () => {
    const { rows } = await validate(
      contractOf({ timestamp: { format: 'iso8601', marks: 'end' } }),
      csv(CANONICAL_HEADER, 'M1,2025-01-01T00:00:00Z,30,import,1,actual'),
    );
    expect(rows.map((r) => r.interval_start)).toEqual(['2024-12-31T23:30:00.000Z']);
  });

  it('when quality and channel codes are mapped, then canonical words are staged', async () => {
    const contract = contractOf({
      quality_map: { A: 'actual', S: 'substituted' },
      channel_map: { AI: 'import' },
    });
    const { rows, rejected } = await validate(
      contract,
      csv(CANONICAL_HEADER, 'M1,2025-01-01T00:00:00Z,30,AI,1,S', 'M1,2025-01-01T00:30:00Z,30,AI,1,X'),
    );
    expect(rows.map((r) => [r.channel, r.quality])).toEqual([['import', 'substituted']]);
    expect(rejected[0]?.reasons[0]?.message).toBe("quality flag 'X' is not in the quality map");
  });

  it("when the rejected share is over the contract's threshold, then the whole file is rejected", async () => {
    const contract = contractOf({ max_rejected_share: 0.25 });
    const lines = [
      'M1,2025-01-01T00:00:00Z,30,import,1,actual',
      'M1,2025-01-01T00:30:00Z,30,import,-1,actual',
      'M1,2025-01-01T01:00:00Z,30,import,-1,actual',
    ];
    const { report } = await validate(contract, csv(CANONICAL_HEADER, ...lines));
    expect(report.verdict).toBe('rejected');
    expect(report.reasons[0]?.code).toBe('REJECTED_SHARE_EXCEEDED');
    expect(report.rejectedShare).toBeCloseTo(2 / 3);
  });

  it('when some rows are rejected under the threshold, then the verdict is accepted_with_rejections', async () => {
    const contract = contractOf({ max_rejected_share: 0.5 });
    const { report } = await validate(
      contract,
      csv(
        CANONICAL_HEADER,
        'M1,2025-01-01T00:00:00Z,30,import,1,actual',
        'M1,2025-01-01T00:30:00Z,30,import,-1,actual',
      ),
    );
    expect([report.verdict, report.counts.rowsValid, report.counts.rowsRejected]).toEqual([
      'accepted_with_rejections',
      1,
      1,
    ]);
    expect(report.ruleFailures).toEqual({ NEGATIVE_VALUE: 1 });
  });

  it('when a file is accepted, then the report gives meters, first and last interval and affected dates', async () => {
    const { report } = await validate(
      canonical,
      csv(
        CANONICAL_HEADER,
        'M2,2025-01-02T23:30:00Z,30,import,1,actual',
        'M1,2025-01-01T00:00:00Z,30,import,1,actual',
      ),
    );
    expect([report.distinctMeters, report.firstInterval, report.lastInterval, report.affectedDates]).toEqual([
      2,
      '2025-01-01T00:00:00.000Z',
      '2025-01-02T23:30:00.000Z',
      ['2025-01-01', '2025-01-02'],
    ]);
  });

  it('when an NDJSON feed nests fields, then dotted paths reach them', async () => {
    const contract = contractOf({
      format: { type: 'ndjson' },
      layout: {
        kind: 'long',
        columns: {
          meter_id: 'meter.id',
          interval_start: 'end',
          interval_minutes: 'dur',
          channel: 'ch',
          kwh: 'wh',
        },
      },
      timestamp: { format: 'iso8601', marks: 'end' },
      unit: 'Wh',
      constants: { quality: 'actual' },
    });
    const text =
      '{"meter":{"id":"M9"},"end":"2025-03-30T02:00:00+01:00","dur":15,"ch":"import","wh":250}\n[1,2]\n{"meter":{}, "end":"x"\n';
    const { rows, rejected } = await validate(contract, text);
    expect(rows.map((r) => [r.meter_id, r.interval_start, r.kwh])).toEqual([
      ['M9', '2025-03-30T00:45:00.000Z', 0.25],
    ]);
    expect(rejected.map((r) => r.reasons.map((x) => x.code))).toEqual([['MALFORMED_ROW'], ['MALFORMED_ROW']]);
  });
});

describe('row-level rules (reference data and prices)', () => {
  const prices = contractOf({
    dataset: 'prices',
    layout: {
      kind: 'long',
      columns: { bidding_zone: 'zone', interval_start: 'start', price_eur_per_mwh: 'price' },
    },
    interval_minutes: 60,
    unit: 'EUR/MWh',
    constants: { provider: 'test' },
  });

  it('when a price is outside the market limits, then it is rejected as PRICE_OUT_OF_RANGE', async () => {
    const { rows, rejected } = await validate(
      prices,
      'zone,start,price\nGB,2025-01-01T00:00:00Z,-12.5\nGB,2025-01-01T01:00:00Z,4100\n',
    );
    expect(rows.map((r) => [r.price_eur_per_mwh, r.resolution_minutes, r.published_at])).toEqual([
      [-12.5, 60, null],
    ]);
    expect(rejected.map((r) => r.reasons[0]?.code)).toEqual(['PRICE_OUT_OF_RANGE']);
  });

  it('when prices come in ct/kWh, then they are converted to EUR/MWh', async () => {
    const { rows } = await validate(
      contractOf({ ...pricesOverrides(), unit: 'ct/kWh' }),
      'zone,start,price\nDE-LU,2025-01-01T00:00:00Z,8.5\n',
    );
    expect(rows.map((r) => r.price_eur_per_mwh)).toEqual([85]);
  });

  function pricesOverrides(): Record<string, unknown> {
    return {
      dataset: 'prices',
      layout: {
        kind: 'long',
        columns: { bidding_zone: 'zone', interval_start: 'start', price_eur_per_mwh: 'price' },
      },
      interval_minutes: 60,
      constants: { provider: 'test' },
    };
  }

  const contracts = contractOf({
    dataset: 'contracts',
    layout: {
      kind: 'long',
      columns: {
        contract_id: 'id',
        customer_id: 'customer',
        meter_id: 'meter',
        tariff_type: 'tariff',
        unit_rate_eur_per_kwh: 'rate',
        spot_markup_eur_per_kwh: 'markup',
        standing_charge_eur_per_day: 'standing',
        bidding_zone: 'zone',
        valid_from: 'from',
        valid_to: 'to',
      },
    },
    unit: undefined,
    constants: { tariff_timezone: 'Europe/London' },
  });
  const contractHeader = 'id,customer,meter,tariff,rate,markup,standing,zone,from,to';

  it('when a tariff lacks the rate its type needs, then it is rejected as TARIFF_INCOMPLETE', async () => {
    const { rows, rejected } = await validate(
      contracts,
      csv(
        contractHeader,
        'C1,K1,M1,fixed,0.25,,0.4,GB,2025-01-01T00:00:00Z,',
        'C2,K2,M2,dynamic,0.25,,0.4,GB,2025-01-01T00:00:00Z,',
      ),
    );
    expect(rows.map((r) => [r.contract_id, r.valid_to])).toEqual([['C1', null]]);
    expect(rejected[0]?.reasons).toEqual([
      {
        code: 'TARIFF_INCOMPLETE',
        message: 'a dynamic tariff needs spot_markup_eur_per_kwh',
        column: 'spot_markup_eur_per_kwh',
      },
    ]);
  });

  it('when valid_to is not after valid_from, then it is rejected as INVALID_VALIDITY', async () => {
    const { rejected } = await validate(
      contracts,
      csv(contractHeader, 'C1,K1,M1,fixed,0.25,,0.4,GB,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z'),
    );
    expect(rejected[0]?.reasons[0]?.code).toBe('INVALID_VALIDITY');
  });

  it('when a customer e-mail is malformed, then it is rejected as INVALID_EMAIL', async () => {
    const customers = contractOf({
      dataset: 'customers',
      layout: {
        kind: 'long',
        columns: {
          customer_id: 'id',
          name: 'name',
          email: 'email',
          region: 'region',
          segment: 'segment',
          created_at: 'created',
          updated_at: 'updated',
        },
      },
      unit: undefined,
    });
    const { rows, rejected } = await validate(
      customers,
      csv(
        'id,name,email,region,segment,created,updated',
        'K1,Ada,ada@example.org,North,sme,2025-01-01T00:00:00Z,2025-01-01T00:00:00Z',
        'K2,Bob,bob-at-example,North,sme,2025-01-01T00:00:00Z,2025-01-01T00:00:00Z',
      ),
    );
    expect(rows.map((r) => [r.customer_id, r.phone, r.street])).toEqual([['K1', null, null]]);
    expect(rejected[0]?.reasons[0]?.code).toBe('INVALID_EMAIL');
  });
});
