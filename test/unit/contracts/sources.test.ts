import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadSourceContracts, parseSourceContract, UnknownSourceError } from '../../../lib/contracts/sources';
import { ContractError } from '../../../lib/errors';

const longCsv = {
  source: 'hes_long',
  dataset: 'meter_readings',
  description: 'Head-end system export, one row per reading, UTC.',
  format: { type: 'csv' },
  layout: {
    kind: 'long',
    columns: {
      meter_id: 'meter_id',
      interval_start: 'interval_start_utc',
      kwh: 'kwh',
      quality: 'quality_flag',
    },
  },
  timestamp: { format: 'iso8601' },
  interval_minutes: 30,
  unit: 'kWh',
  constants: { channel: 'import' },
  quality_map: { A: 'actual', E: 'estimated' },
};

function issuesOf(document: unknown): string[] {
  try {
    parseSourceContract(document, 'test.yaml');
  } catch (error) {
    if (error instanceof ContractError) return [...error.issues];
    throw error;
  }
  throw new Error('expected the contract to be rejected');
}

describe('source contracts', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-contracts-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when a valid contract is parsed, then defaults fill the optional fields', () => {
    const contract = parseSourceContract(longCsv, 'test.yaml');
    expect(contract.encoding).toBe('auto');
    expect(contract.compression).toBe('auto');
    expect(contract.timestamp).toEqual({ format: 'iso8601', timezone: 'UTC', marks: 'start' });
    expect(contract.format).toEqual({ type: 'csv', delimiter: ',', quote: '"', header: true, decimal: '.' });
    expect(contract.max_rejected_share).toBe(0.05);
  });

  it('when a required canonical column is neither mapped nor constant, then the message names it', () => {
    const issues = issuesOf({ ...longCsv, constants: {} });
    expect(issues).toEqual([expect.stringContaining("required column 'channel'")]);
  });

  it('when a mapping names a column the dataset does not have, then the message names it', () => {
    const issues = issuesOf({
      ...longCsv,
      layout: { ...longCsv.layout, columns: { ...longCsv.layout.columns, kw: 'x' } },
    });
    expect(issues).toEqual([expect.stringContaining("meter_readings has no column 'kw'")]);
  });

  it('when a contract tries to map a lineage column, then it is refused', () => {
    const issues = issuesOf({ ...longCsv, constants: { channel: 'import', source_system: 'x' } });
    expect(issues.join()).toContain("lineage column 'source_system'");
  });

  it('when the time zone is not an IANA zone, then timestamp.timezone is named', () => {
    const issues = issuesOf({ ...longCsv, timestamp: { format: 'iso8601', timezone: 'Europe/Londres' } });
    expect(issues).toEqual([expect.stringMatching(/^timestamp\.timezone: expected an IANA time zone/)]);
  });

  it('when a timestamp pattern uses an unknown token, then timestamp.format is named', () => {
    expect(issuesOf({ ...longCsv, timestamp: { format: 'yyyy-MM-dd QQ:mm' } })[0]).toMatch(
      /^timestamp\.format:/,
    );
  });

  it('when a meter source declares a price unit, then unit is named', () => {
    expect(issuesOf({ ...longCsv, unit: 'EUR/MWh' })[0]).toMatch(
      /^unit: meter_readings needs an energy unit/,
    );
  });

  it('when a field is misspelled, then the unknown key is reported rather than ignored', () => {
    expect(issuesOf({ ...longCsv, max_rejected_shares: 0.1 }).join()).toContain('max_rejected_shares');
  });

  it('when the rejected share threshold is above 1, then max_rejected_share is named', () => {
    expect(issuesOf({ ...longCsv, max_rejected_share: 5 })[0]).toMatch(/^max_rejected_share:/);
  });

  it('when a wide layout has no interval length, then interval_minutes is named', () => {
    const wide = {
      ...longCsv,
      interval_minutes: undefined,
      layout: {
        kind: 'wide',
        columns: { meter_id: 'MPAN' },
        date_column: 'Date',
        date_format: 'dd/MM/yyyy',
        value_columns: ['HH01', 'HH02'],
        addressing: 'period',
      },
    };
    expect(issuesOf(wide).join()).toContain('interval_minutes: required for the wide layout');
  });

  it('when a folder holds YAML and JSON contracts, then both load and resolve by dataset and source', async () => {
    writeFileSync(
      path.join(dir, 'a.yaml'),
      'source: hes_long\ndataset: meter_readings\ndescription: d\nformat: {type: csv}\n' +
        'layout: {kind: long, columns: {meter_id: m, interval_start: t, kwh: v}}\n' +
        'timestamp: {format: iso8601}\ninterval_minutes: 30\nunit: Wh\nconstants: {channel: import, quality: actual}\n',
    );
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify({ ...longCsv, source: 'other' }));
    const registry = await loadSourceContracts(dir);
    expect(registry.resolve('meter_readings', 'hes_long').unit).toBe('Wh');
    expect(registry.list('meter_readings').map((c) => c.source)).toEqual(['hes_long', 'other']);
  });

  it('when no contract matches, then resolve names the dataset, the source and the known ones', async () => {
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify(longCsv));
    const registry = await loadSourceContracts(dir);
    expect(() => registry.resolve('prices', 'entsoe')).toThrow(UnknownSourceError);
    expect(() => registry.resolve('prices', 'entsoe')).toThrow(
      /'prices'.*'entsoe'.*meter_readings\/hes_long/,
    );
  });

  it('when a contract file is not valid YAML, then the error names the file', async () => {
    writeFileSync(path.join(dir, 'broken.yaml'), 'source: [unclosed\n');
    await expect(loadSourceContracts(dir)).rejects.toThrow(/broken\.yaml: not valid YAML/);
  });

  it('when two files define the same dataset and source, then the load fails naming both', async () => {
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify(longCsv));
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify(longCsv));
    await expect(loadSourceContracts(dir)).rejects.toThrow(
      /duplicate contract for meter_readings\/hes_long.*a\.json/,
    );
  });
});
