import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import type { SourceContract } from '../../../lib/contracts/sources';
import { LocalLakeStore } from '../../../lib/lake';
import type { ValidationReport } from '../../../lib/validation/report';
import {
  bronzeStageRequest,
  REPORT_FILE,
  STAGED_PART,
  validateAndStage,
} from '../../../lib/validation/stage';
import { TEST_LIMITS, TEST_NOW } from '../../helpers/validation';
import { entsoeDocument, NORDPOOL_DIR, priceContract } from './priceDocuments';

async function parquetRows(file: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT bidding_zone, strftime(interval_start, '%Y-%m-%dT%H:%M') AS start, resolution_minutes,
              price_eur_per_mwh, provider FROM '${file}' ORDER BY interval_start`,
    );
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('validateAndStage with price documents', () => {
  let root: string;
  let lake: LocalLakeStore;

  beforeEach(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-prices-stage-'));
    lake = new LocalLakeStore({ root });
    for (const container of ['bronze', 'staging', 'quarantine']) await lake.ensureContainer(container);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function stage(
    contract: SourceContract,
    bronzePath: string,
    content: string,
  ): Promise<ValidationReport> {
    const { etag } = await lake.createOnly('bronze', bronzePath, content);
    return validateAndStage(
      lake,
      bronzeStageRequest(lake, {
        contract,
        instanceId: 'prices-1',
        generation: 0,
        now: TEST_NOW,
        limits: TEST_LIMITS,
        path: bronzePath,
        etag,
      }),
    );
  }

  it('when an ENTSO-E A03 document is staged, then the forward-filled rows land as Parquet', async () => {
    const xml = entsoeDocument([
      {
        start: '2025-09-30T22:00Z',
        end: '2025-09-30T23:00Z',
        resolution: 'PT15M',
        points: [
          [1, '80.5'],
          [3, '70'],
        ],
      },
    ]);
    const report = await stage(
      await priceContract('entsoe'),
      'landing/prices/entsoe/2025/10/01/DE-LU_2025-10-01.xml',
      xml,
    );
    expect(report.verdict).toBe('accepted');
    expect(await parquetRows(path.join(root, 'staging', 'prices/prices-1/g0', STAGED_PART))).toEqual([
      {
        bidding_zone: 'DE-LU',
        start: '2025-09-30T22:00',
        resolution_minutes: 15,
        price_eur_per_mwh: 80.5,
        provider: 'entsoe',
      },
      {
        bidding_zone: 'DE-LU',
        start: '2025-09-30T22:15',
        resolution_minutes: 15,
        price_eur_per_mwh: 80.5,
        provider: 'entsoe',
      },
      {
        bidding_zone: 'DE-LU',
        start: '2025-09-30T22:30',
        resolution_minutes: 15,
        price_eur_per_mwh: 70,
        provider: 'entsoe',
      },
      {
        bidding_zone: 'DE-LU',
        start: '2025-09-30T22:45',
        resolution_minutes: 15,
        price_eur_per_mwh: 70,
        provider: 'entsoe',
      },
    ]);
  });

  it('when a document with a DTD is staged, then the original is quarantined whole with the reason', async () => {
    const xml = entsoeDocument([], '<!DOCTYPE a [<!ENTITY x "y">]>');
    const bronzePath = 'landing/prices/entsoe/2025/10/01/DE-LU_2025-10-01.xml';
    const report = await stage(await priceContract('entsoe'), bronzePath, xml);
    expect(report.reasons.map((reason) => reason.code)).toEqual(['XML_DTD_FORBIDDEN']);
    const quarantined = path.join(root, 'quarantine', 'prices/prices-1/g0');
    expect(readFileSync(path.join(quarantined, 'DE-LU_2025-10-01.xml'), 'utf8')).toBe(xml);
    expect(JSON.parse(readFileSync(path.join(quarantined, REPORT_FILE), 'utf8'))).toEqual(report);
  });

  it('when a real Nord Pool answer is staged, then its report names the affected UTC dates', async () => {
    const text = readFileSync(path.join(NORDPOOL_DIR, 'multiple_area_hourly.response.json'), 'utf8');
    const report = await stage(
      await priceContract('nordpool'),
      'landing/prices/nordpool/2025/05/07/SE_2025-05-07.json',
      text,
    );
    expect([report.verdict, report.counts.rowsValid, report.affectedDates]).toEqual([
      'accepted',
      96,
      ['2025-05-06', '2025-05-07'],
    ]);
  });
});
