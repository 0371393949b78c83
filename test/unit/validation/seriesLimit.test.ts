import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LocalLakeStore } from '../../../lib/lake';
import { bronzeStageRequest, REPORT_FILE, validateAndStage } from '../../../lib/validation/stage';
import { CANONICAL_HEADER, contractOf, csv, TEST_LIMITS, TEST_NOW, validate } from '../../helpers/validation';

const contract = contractOf({});
const HALF_HOUR = 30 * 60_000;
const T0 = Date.UTC(2025, 0, 1);

/** `count` half-hourly readings of one series from 2025-01-01. */
function readings(meter: string, channel: string, count: number): string[] {
  return Array.from(
    { length: count },
    (_, k) => `${meter},${new Date(T0 + k * HALF_HOUR).toISOString()},30,${channel},0.5,actual`,
  );
}

describe('the series limit (VALIDATION_MAX_SERIES)', () => {
  // Three series, counted by hand: (M1, import), (M1, export), (M2, import).
  const threeSeries = csv(
    CANONICAL_HEADER,
    ...readings('M1', 'import', 2),
    ...readings('M1', 'export', 2),
    ...readings('M2', 'import', 2),
  );

  it('when a file has as many series as the limit, then it is accepted', async () => {
    const { report } = await validate(contract, threeSeries, { limits: { maxSeries: 3 } });
    expect([report.verdict, report.counts.rowsValid, report.distinctMeters]).toEqual(['accepted', 6, 2]);
  });

  it('when a file has one series more than the limit, then it is rejected as TOO_MANY_SERIES naming the limit and the setting', async () => {
    const { report } = await validate(contract, threeSeries, { limits: { maxSeries: 2 } });
    expect(report.verdict).toBe('rejected');
    expect(report.reasons).toEqual([
      {
        code: 'TOO_MANY_SERIES',
        message:
          'the file holds more meter series than one validation may keep in memory: more than 2 (meter, channel) series; raise VALIDATION_MAX_SERIES or split the file',
      },
    ]);
  });

  it('when the rows of an extra meter are all rejected, then that meter starts no series', async () => {
    const text = csv(
      CANONICAL_HEADER,
      ...readings('M1', 'import', 3),
      'M2,2025-01-01T00:00:00Z,30,import,-1,actual',
    );
    const { report } = await validate(contractOf({ max_rejected_share: 0.5 }), text, {
      limits: { maxSeries: 1 },
    });
    expect([report.verdict, report.counts.rowsValid, report.counts.rowsRejected]).toEqual([
      'accepted_with_rejections',
      3,
      1,
    ]);
  });

  it('when a repeat of a known series comes after the limit is reached, then it is still told apart as a duplicate', async () => {
    const text = csv(CANONICAL_HEADER, ...readings('M1', 'import', 2), ...readings('M1', 'import', 1));
    const { report } = await validate(contract, text, { limits: { maxSeries: 1 } });
    expect([report.verdict, report.counts.rowsValid, report.counts.duplicatesDropped]).toEqual([
      'accepted',
      2,
      1,
    ]);
  });

  describe('when staged', () => {
    let root: string;
    let lake: LocalLakeStore;
    const bronze = 'landing/meter_readings/test/2025/01/02/wide.csv';

    beforeEach(async () => {
      root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-series-'));
      lake = new LocalLakeStore({ root });
      for (const container of ['bronze', 'staging', 'quarantine']) await lake.ensureContainer(container);
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    async function listAll(container: string): Promise<string[]> {
      const paths: string[] = [];
      for await (const entry of lake.list(container)) paths.push(entry.path);
      return paths;
    }

    it('when the series after the limit comes after a full row group was written, then nothing is staged and the file is quarantined whole', async () => {
      // 17,000 rows of one series fill a 16,384-row group (written to the staging upload) before the
      // third series appears.
      const text = csv(
        CANONICAL_HEADER,
        ...readings('M1', 'import', 17_000),
        ...readings('M2', 'import', 1),
        ...readings('M3', 'import', 1),
      );
      const { etag } = await lake.createOnly('bronze', bronze, text);
      const report = await validateAndStage(
        lake,
        bronzeStageRequest(lake, {
          contract,
          instanceId: 'ingest-1',
          generation: 0,
          now: TEST_NOW,
          limits: { ...TEST_LIMITS, maxSeries: 2 },
          path: bronze,
          etag,
        }),
      );
      expect(report.reasons.map((r) => r.code)).toEqual(['TOO_MANY_SERIES']);
      expect(await listAll('staging')).toEqual([]);
      expect((await listAll('quarantine')).sort()).toEqual([
        `meter_readings/ingest-1/g0/${REPORT_FILE}`,
        'meter_readings/ingest-1/g0/wide.csv',
      ]);
      expect(
        (await lake.read('quarantine', 'meter_readings/ingest-1/g0/wide.csv')).data.toString('utf8'),
      ).toBe(text);
    });
  });
});
