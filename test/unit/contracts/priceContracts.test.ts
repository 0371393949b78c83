import path from 'node:path';

import { loadSourceContracts, parseSourceContract } from '../../../lib/contracts/sources';
import { ContractError } from '../../../lib/errors';

const CONTRACTS = path.join(__dirname, '../../../contracts/sources');

const entsoe = {
  source: 'entsoe_test',
  dataset: 'prices',
  description: 'ENTSO-E A44',
  format: { type: 'entsoe_xml' },
  layout: {
    kind: 'long',
    columns: {
      bidding_zone: 'zone',
      interval_start: 'interval_start',
      resolution_minutes: 'resolution_minutes',
      price_eur_per_mwh: 'price',
      published_at: 'published_at',
    },
  },
  timestamp: { format: 'iso8601' },
  unit: 'EUR/MWh',
  constants: { provider: 'entsoe' },
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

describe('price document source contracts', () => {
  it('when contracts/sources is loaded, then entsoe, energy-charts and nordpool map prices from their document formats', async () => {
    const registry = await loadSourceContracts(CONTRACTS);
    expect(
      ['entsoe', 'energy-charts', 'nordpool'].map((source) => {
        const contract = registry.resolve('prices', source);
        return [source, contract.format.type, contract.constants.provider];
      }),
    ).toEqual([
      ['entsoe', 'entsoe_xml', 'entsoe'],
      ['energy-charts', 'energy_charts_json', 'energy-charts'],
      ['nordpool', 'nordpool_json', 'nordpool'],
    ]);
  });

  it('when an entsoe_xml format gives no options, then the size limit, zone map and sequence default', () => {
    expect(parseSourceContract(entsoe, 'test.yaml').format).toEqual({
      type: 'entsoe_xml',
      max_bytes: 16 * 1024 * 1024,
      zones: {},
      classification_sequence: 1,
    });
  });

  it('when a mapping names a field the document format does not produce, then the field list is given', () => {
    const issues = issuesOf({
      ...entsoe,
      layout: { kind: 'long', columns: { ...entsoe.layout.columns, price_eur_per_mwh: 'price.amount' } },
    });
    expect(issues).toEqual([
      expect.stringMatching(
        /^layout\.columns\.price_eur_per_mwh: entsoe_xml records have no field 'price\.amount'/,
      ),
    ]);
  });

  it('when a document format is used for meter readings, then format.type is named', () => {
    const issues = issuesOf({
      ...entsoe,
      dataset: 'meter_readings',
      layout: { kind: 'long', columns: { meter_id: 'zone', interval_start: 'interval_start', kwh: 'price' } },
      unit: 'kWh',
      interval_minutes: 60,
      constants: { channel: 'import', quality: 'actual' },
    });
    expect(issues).toContain('format.type: entsoe_xml is for the prices dataset');
  });

  it('when a document contract declares a local timestamp pattern, then timestamp is named', () => {
    const issues = issuesOf({
      ...entsoe,
      timestamp: { format: 'dd/MM/yyyy HH:mm', timezone: 'Europe/Berlin' },
    });
    expect(issues).toEqual([
      expect.stringMatching(/^timestamp: entsoe_xml records carry UTC interval starts/),
    ]);
  });

  it('when the document size limit is over 256 MiB, then format.max_bytes is named', () => {
    const issues = issuesOf({ ...entsoe, format: { type: 'entsoe_xml', max_bytes: 1024 ** 3 } });
    expect(issues).toEqual([expect.stringMatching(/^format\.max_bytes: at most 256 MiB/)]);
  });

  it('when a format option is misspelled, then the unknown key is reported', () => {
    expect(
      issuesOf({ ...entsoe, format: { type: 'nordpool_json', area: { GER: 'DE-LU' } } }).join(),
    ).toContain('area');
  });
});
