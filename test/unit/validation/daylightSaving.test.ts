import { TimestampParser, ZoneResolver } from '../../../lib/validation/timestamps';
import { contractOf, csv, validate } from '../../helpers/validation';

const HOUR = 3_600_000;

describe('timestamps across daylight-saving changes (Europe/London)', () => {
  const london = new ZoneResolver('Europe/London');
  const parse = (format: string, text: string, zone = london) => {
    const parser = new TimestampParser(format, zone);
    const ok = parser.parse(text);
    return ok
      ? { utc: new Date(parser.utcMs).toISOString(), ambiguous: parser.ambiguous }
      : { failure: parser.failure };
  };

  it('when a local time is in winter, then UTC equals the wall clock', () => {
    expect(parse('iso8601', '2025-01-15 10:30')).toEqual({
      utc: '2025-01-15T10:30:00.000Z',
      ambiguous: false,
    });
  });

  it('when a local time is in summer, then UTC is one hour earlier', () => {
    expect(parse('iso8601', '2025-07-15 10:30')).toEqual({
      utc: '2025-07-15T09:30:00.000Z',
      ambiguous: false,
    });
  });

  it('when a local time falls in the spring-forward gap, then it does not exist', () => {
    expect(parse('iso8601', '2025-03-30 01:30')).toEqual({ failure: 'NONEXISTENT' });
    expect(parse('dd/MM/yyyy HH:mm', '30/03/2025 01:00')).toEqual({ failure: 'NONEXISTENT' });
  });

  it('when a local time falls in the fall-back overlap, then it resolves to the earlier instant and says so', () => {
    expect(parse('iso8601', '2025-10-26 01:30')).toEqual({
      utc: '2025-10-26T00:30:00.000Z',
      ambiguous: true,
    });
  });

  it('when the time carries its own offset, then the zone is not consulted', () => {
    expect(parse('iso8601', '2025-10-26T01:30:00+00:00')).toEqual({
      utc: '2025-10-26T01:30:00.000Z',
      ambiguous: false,
    });
    expect(parse('iso8601', '2025-03-30T01:30:00+01:00')).toEqual({
      utc: '2025-03-30T00:30:00.000Z',
      ambiguous: false,
    });
  });

  it('when patterns use month names, 12-hour clocks and two-digit years, then they parse', () => {
    expect(parse('dd MMM yyyy HH:mm:ss', '26 Aug 2019 00:30:00')).toEqual({
      utc: '2019-08-25T23:30:00.000Z',
      ambiguous: false,
    });
    expect(parse('MMM dd yyyy hh:mma', 'Nov 13 2019 12:00AM')).toEqual({
      utc: '2019-11-13T00:00:00.000Z',
      ambiguous: false,
    });
    expect(parse('dd/MM/yy', '01/04/17')).toEqual({ utc: '2017-03-31T23:00:00.000Z', ambiguous: false });
  });

  it('when epoch seconds are given, then they are UTC instants', () => {
    expect(parse('epoch_seconds', '1743296400', new ZoneResolver('UTC'))).toEqual({
      utc: '2025-03-30T01:00:00.000Z',
      ambiguous: false,
    });
  });

  it('when a zone has a half-hour offset, then conversion follows it', () => {
    expect(parse('iso8601', '2025-01-15 10:30', new ZoneResolver('Asia/Kolkata'))).toEqual({
      utc: '2025-01-15T05:00:00.000Z',
      ambiguous: false,
    });
  });
});

const ukWide = contractOf({
  layout: {
    kind: 'wide',
    columns: { meter_id: 'MPAN' },
    date_column: 'Date',
    date_format: 'yyyy-MM-dd',
    addressing: 'period',
    value_columns: Array.from({ length: 50 }, (_, i) => `P${i + 1}`),
  },
  timestamp: { format: 'yyyy-MM-dd', timezone: 'Europe/London' },
  interval_minutes: 30,
  unit: 'kWh',
  constants: { channel: 'import', quality: 'actual' },
});
const wideHeader = ['MPAN', 'Date', ...Array.from({ length: 50 }, (_, i) => `P${i + 1}`)].join(',');
const wideRow = (date: string, values: number) =>
  ['M1', date, ...Array.from({ length: 50 }, (_, i) => (i < values ? '0.1' : ''))].join(',');

describe('wide layout with settlement periods on daylight-saving days', () => {
  it.each([
    ['2025-03-30', 46, '2025-03-30T00:00:00.000Z', '2025-03-30T22:30:00.000Z'],
    ['2025-06-01', 48, '2025-05-31T23:00:00.000Z', '2025-06-01T22:30:00.000Z'],
    ['2025-10-26', 50, '2025-10-25T23:00:00.000Z', '2025-10-26T23:30:00.000Z'],
  ])(
    'when %s has %i periods, then each becomes a contiguous UTC half-hour',
    async (date, periods, first, last) => {
      const { rows, report } = await validate(ukWide, csv(wideHeader, wideRow(date, periods)));
      const starts = rows.map((r) => Date.parse(r.interval_start as string));
      expect([rows.length, rows[0]?.interval_start, rows.at(-1)?.interval_start]).toEqual([
        periods,
        first,
        last,
      ]);
      expect(starts.slice(1).every((start, i) => start - starts[i]! === HOUR / 2)).toBe(true);
      expect(report.verdict).toBe('accepted');
    },
  );

  it('when a value sits in a period the day does not have, then that reading is rejected', async () => {
    const { rows, rejected } = await validate(ukWide, csv(wideHeader, wideRow('2025-03-30', 47)));
    expect(rows).toHaveLength(46);
    expect(rejected.map((r) => [r.column, r.reasons[0]?.code])).toEqual([['P47', 'PERIOD_OUT_OF_RANGE']]);
  });

  it('when the date of a wide row is invalid, then all its readings are rejected in one record', async () => {
    const { report, rejected } = await validate(ukWide, csv(wideHeader, wideRow('2025-02-30', 48)));
    expect([report.counts.rowsRead, report.counts.rowsRejected]).toEqual([48, 48]);
    expect(rejected.map((r) => [r.rows, r.reasons[0]?.code])).toEqual([[48, 'INVALID_DATE']]);
  });
});

describe('wide layout with clock labels on daylight-saving days', () => {
  const labels = Array.from(
    { length: 48 },
    (_, i) => `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`,
  );
  const clock = contractOf({
    layout: {
      kind: 'wide',
      columns: { meter_id: 'MPAN' },
      date_column: 'Date',
      date_format: 'dd/MM/yyyy',
      addressing: 'clock',
      value_columns: labels,
    },
    timestamp: { format: 'dd/MM/yyyy', timezone: 'Europe/London' },
    interval_minutes: 30,
    unit: 'kWh',
    constants: { channel: 'import', quality: 'actual' },
  });
  const header = ['MPAN', 'Date', ...labels].join(',');

  it('when the spring-forward labels 01:00 and 01:30 are empty, then the other 46 readings are staged', async () => {
    const values = labels.map((label) => (label === '01:00' || label === '01:30' ? '' : '1'));
    const { rows, rejected } = await validate(clock, csv(header, ['M1', '30/03/2025', ...values].join(',')));
    expect([rows.length, rejected.length]).toEqual([46, 0]);
  });

  it('when a spring-forward label that does not exist holds a value, then that reading is rejected', async () => {
    const { rows, rejected } = await validate(
      clock,
      csv(header, ['M1', '30/03/2025', ...labels.map(() => '1')].join(',')),
    );
    expect(rows).toHaveLength(46);
    expect(rejected.map((r) => [r.column, r.reasons[0]?.code])).toEqual([
      ['01:00', 'TIMESTAMP_NONEXISTENT'],
      ['01:30', 'TIMESTAMP_NONEXISTENT'],
    ]);
  });

  it('when a fall-back label is ambiguous, then it takes the earlier instant and the report counts it', async () => {
    const { rows, report } = await validate(
      clock,
      csv(header, ['M1', '26/10/2025', ...labels.map(() => '1')].join(',')),
    );
    expect(rows.filter((r) => r.interval_start === '2025-10-26T00:00:00.000Z')).toHaveLength(1);
    expect(rows.some((r) => r.interval_start === '2025-10-26T01:00:00.000Z')).toBe(false);
    expect(report.counts.ambiguousTimesResolved).toBe(2);
  });
});

describe('long layout in local time on the fall-back day', () => {
  const local = contractOf({ timestamp: { format: 'yyyy-MM-dd HH:mm', timezone: 'Europe/London' } });

  it('when a wall-clock time repeats for one meter, then the first is the earlier instant and the second the later', async () => {
    const { rows, report } = await validate(
      local,
      csv(
        'meter_id,interval_start,interval_minutes,channel,kwh,quality',
        'M1,2025-10-26 01:00,30,import,1,actual',
        'M1,2025-10-26 01:30,30,import,1,actual',
        'M1,2025-10-26 01:00,30,import,2,actual',
        'M1,2025-10-26 01:30,30,import,2,actual',
      ),
    );
    expect(rows.map((r) => [r.interval_start, r.kwh])).toEqual([
      ['2025-10-26T00:00:00.000Z', 1],
      ['2025-10-26T00:30:00.000Z', 1],
      ['2025-10-26T01:00:00.000Z', 2],
      ['2025-10-26T01:30:00.000Z', 2],
    ]);
    expect(report.counts.ambiguousTimesResolved).toBe(4);
  });

  it('when a local time falls in the spring-forward gap, then the row is rejected as TIMESTAMP_NONEXISTENT', async () => {
    const { rejected } = await validate(
      local,
      csv(
        'meter_id,interval_start,interval_minutes,channel,kwh,quality',
        'M1,2025-03-30 01:30,30,import,1,actual',
      ),
    );
    expect(rejected[0]?.reasons[0]).toEqual({
      code: 'TIMESTAMP_NONEXISTENT',
      message: "local time '2025-03-30 01:30' does not exist in Europe/London",
      column: 'interval_start',
    });
  });
});
