import { readFileSync } from 'node:fs';
import path from 'node:path';

import {
  DATASET_NAMES,
  datasetColumns,
  DATASETS,
  exportDatasetContracts,
} from '../../../lib/contracts/datasets';
import { EXPORTED_CONTRACTS_PATH } from '../../../local/cli/exportSchemas';

const lineage = {
  source_system: 'hes_long',
  source_file: 'bronze/landing/meter_readings/hes_long/2025/03/30/readings.csv',
  source_etag: '0x8DC1',
  source_line: 2,
  ingest_instance_id: 'ingest-abc',
  ingested_at: '2025-03-31T06:00:00Z',
};

describe('dataset contracts', () => {
  it('when the TypeScript contracts change, then the JSON the Spark jobs load must be regenerated', () => {
    const committed: unknown = JSON.parse(
      readFileSync(path.join(__dirname, '../../..', EXPORTED_CONTRACTS_PATH), 'utf8'),
    );
    // A failure here means: run `make contracts` and commit databricks/src/lakewatt/contracts/datasets.json.
    expect(committed).toEqual(exportDatasetContracts());
  });

  it('when a meter reading has every canonical column, then it is a valid row', () => {
    const row = {
      meter_id: 'MTR-0001',
      interval_start: '2025-03-30T00:30:00Z',
      interval_minutes: 30,
      channel: 'import',
      kwh: 0.25,
      quality: 'actual',
      source_quality: null,
      source_quality_reason: null,
      ...lineage,
    };
    expect(DATASETS.meter_readings.schema.safeParse(row).success).toBe(true);
  });

  it.each([
    ['an interval length outside 5/15/30/60', { interval_minutes: 20 }],
    ['a local timestamp with an offset', { interval_start: '2025-03-30T01:30:00+01:00' }],
    ['an unknown channel', { channel: 'net' }],
    ['an unknown quality flag', { quality: 'A' }],
    ['a missing lineage line', { source_line: undefined }],
  ])('when a meter reading has %s, then it is not a valid row', (_case, change) => {
    const row = {
      meter_id: 'MTR-0001',
      interval_start: '2025-03-30T00:30:00Z',
      interval_minutes: 30,
      channel: 'import',
      kwh: 0.25,
      quality: 'actual',
      ...lineage,
      ...change,
    };
    expect(DATASETS.meter_readings.schema.safeParse(row).success).toBe(false);
  });

  it('when customers are exported, then name, e-mail, phone and street are the PII columns', () => {
    const pii = datasetColumns('customers')
      .filter((c) => c.pii)
      .map((c) => c.name)
      .sort();
    expect(pii).toEqual(['email', 'name', 'phone', 'street']);
  });

  it('when any dataset is exported, then only customers carry PII', () => {
    for (const name of DATASET_NAMES.filter((n) => n !== 'customers')) {
      expect(datasetColumns(name).filter((c) => c.pii)).toEqual([]);
    }
  });

  it.each(DATASET_NAMES)('when %s is exported, then it carries all six lineage columns last', (name) => {
    const columns = datasetColumns(name);
    expect(columns.slice(-6).map((c) => [c.name, c.lineage])).toEqual([
      ['source_system', true],
      ['source_file', true],
      ['source_etag', true],
      ['source_line', true],
      ['ingest_instance_id', true],
      ['ingested_at', true],
    ]);
  });

  it.each(DATASET_NAMES)(
    'when %s declares its key, then every key column exists and is not nullable',
    (name) => {
      const columns = new Map(datasetColumns(name).map((c) => [c.name, c]));
      for (const key of DATASETS[name].key) {
        expect({ key, nullable: columns.get(key)?.nullable }).toEqual({ key, nullable: false });
      }
    },
  );

  it('when a contract is open-ended, then valid_to may be null but valid_from may not', () => {
    const columns = new Map(datasetColumns('contracts').map((c) => [c.name, c]));
    expect(columns.get('valid_to')?.nullable).toBe(true);
    expect(columns.get('valid_from')?.nullable).toBe(false);
  });
});
