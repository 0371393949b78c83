import { readdirSync } from 'node:fs';
import path from 'node:path';

import { loadSourceContracts, type SourceContract } from '../../../lib/contracts/sources';
import { simulate } from '../../../lib/simulator';
import { validate } from '../../helpers/validation';
import { physicalLines, readManifest, readText, splitCsv, tempDir } from '../simulator/support';

const CONTRACTS = path.join(__dirname, '../../../contracts/sources');

let root: string;
let remove: () => void;
let contracts: SourceContract[];
let files: Array<{ path: string; dataset: string; source: string; rejected: boolean }>;

beforeAll(async () => {
  ({ dir: root, remove } = tempDir('contracts'));
  await simulate(root, {
    meters: 12,
    days: 3,
    start: '2025-09-30',
    seed: 'contracts',
    defects: 0.02,
  });
  const manifest = readManifest(root);
  files = manifest.files.map((f) => ({
    path: f.path,
    dataset: f.dataset,
    source: f.source,
    rejected: manifest.defects.some((d) => d.file === f.path && d.verdict === 'file_rejected'),
  }));
  contracts = (await loadSourceContracts(CONTRACTS)).list();
});
afterAll(() => remove());

const contractFor = (dataset: string, source: string): SourceContract => {
  const contract = contracts.find((c) => c.dataset === dataset && c.source === source);
  if (!contract) throw new Error(`no contract for ${dataset}/${source}`);
  return contract;
};

/** The source columns (CSV) or field paths (NDJSON) a contract reads. */
function expectedFields(contract: SourceContract): string[] {
  const mapped = Object.values(contract.layout.columns);
  if (contract.layout.kind === 'wide')
    return [...mapped, contract.layout.date_column, ...contract.layout.value_columns];
  return mapped;
}

function leafPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
    leafPaths(v, prefix ? `${prefix}.${k}` : k),
  );
}

describe('source contracts of the simulator', () => {
  it('when contracts/sources is loaded, then every file is a valid contract and each simulated source has one', () => {
    const onDisk = readdirSync(CONTRACTS).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(contracts.length).toBe(onDisk.length);
    const simulated = new Set(files.map((f) => `${f.dataset}/${f.source}`));
    expect([...simulated].sort()).toEqual(
      [
        'contracts/billing',
        'customers/crm',
        'meter_readings/headend_utc',
        'meter_readings/smartfeed',
        'meter_readings/uk_hh_wide',
        'prices/dayahead',
      ].sort(),
    );
    for (const key of simulated) expect(contracts.map((c) => `${c.dataset}/${c.source}`)).toContain(key);
  });

  it('when a simulated CSV is read, then its header is exactly the columns its contract maps', () => {
    const csvFiles = files.filter((f) => !f.rejected && !f.path.endsWith('.ndjson.gz'));
    expect(csvFiles.length).toBeGreaterThan(10);
    for (const file of csvFiles) {
      const contract = contractFor(file.dataset, file.source);
      expect(contract.format.type).toBe('csv');
      const header = splitCsv(physicalLines(readText(root, file.path))[0] ?? '');
      expect([file.path, [...header].sort()]).toEqual([file.path, expectedFields(contract).sort()]);
    }
  });

  it('when a simulated NDJSON record is read, then its fields are exactly the paths its contract maps', () => {
    const feeds = files.filter((f) => !f.rejected && f.path.endsWith('.ndjson.gz'));
    expect(feeds.length).toBe(3);
    for (const file of feeds) {
      const contract = contractFor(file.dataset, file.source);
      expect(contract.format.type).toBe('ndjson');
      expect(['auto', 'gzip']).toContain(contract.compression);
      for (const line of physicalLines(readText(root, file.path)).slice(0, 200)) {
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          continue; // a malformed-row defect
        }
        const paths = leafPaths(record).sort();
        if (paths.length !== expectedFields(contract).length) continue; // a missing-field defect
        expect(paths).toEqual(expectedFields(contract).sort());
      }
    }
  });

  it('when readings use codes for channel and quality, then every code in the files is in the contract maps', () => {
    for (const source of ['headend_utc', 'smartfeed', 'uk_hh_wide']) {
      const contract = contractFor('meter_readings', source);
      const channels = new Set<string>();
      const qualities = new Set<string>();
      for (const file of files.filter((f) => f.source === source && !f.rejected)) {
        const lines = physicalLines(readText(root, file.path));
        if (source === 'smartfeed') {
          for (const line of lines) {
            try {
              const r = JSON.parse(line) as { ch?: string; q?: string };
              if (r.ch) channels.add(r.ch);
              if (r.q) qualities.add(r.q);
            } catch {
              // malformed-row defect
            }
          }
        } else {
          const [header, ...rows] = lines.map(splitCsv);
          const channelAt = header?.indexOf(contract.layout.columns.channel ?? '') ?? -1;
          const qualityAt = header?.indexOf(contract.layout.columns.quality ?? '') ?? -1;
          for (const row of rows) {
            if (channelAt >= 0 && row[channelAt]) channels.add(row[channelAt]);
            if (qualityAt >= 0 && row[qualityAt]) qualities.add(row[qualityAt]);
          }
        }
      }
      expect(qualities.size).toBeGreaterThan(0);
      for (const q of qualities)
        expect([source, Object.keys(contract.quality_map ?? {})]).toEqual([
          source,
          expect.arrayContaining([q]),
        ]);
      for (const c of channels)
        expect([source, Object.keys(contract.channel_map ?? {})]).toEqual([
          source,
          expect.arrayContaining([c]),
        ]);
    }
  });

  it('when the contracts declare units and ceilings, then they match what the simulator writes', () => {
    expect(contractFor('meter_readings', 'headend_utc').unit).toBe('kWh');
    expect(contractFor('meter_readings', 'uk_hh_wide').unit).toBe('kWh');
    expect(contractFor('meter_readings', 'smartfeed').unit).toBe('Wh');
    expect(contractFor('meter_readings', 'smartfeed').timestamp.marks).toBe('end');
    expect(contractFor('meter_readings', 'uk_hh_wide').timestamp.timezone).toBe('Europe/London');
    const wide = contractFor('meter_readings', 'uk_hh_wide').layout;
    expect(wide.kind === 'wide' ? [wide.addressing, wide.value_columns.length] : []).toEqual(['period', 50]);
    const simulated = ['headend_utc', 'uk_hh_wide', 'smartfeed'].map((s) => contractFor('meter_readings', s));
    for (const c of simulated) expect(c.max_kwh_per_interval).toBe(1000);
    const all = [...simulated, contractFor('customers', 'crm'), contractFor('contracts', 'billing')];
    for (const c of [...all, contractFor('prices', 'dayahead')]) expect(c.max_rejected_share).toBe(0.05);
  });
});

describe('NEM12 files of the simulator (opt-in, so not in the run above)', () => {
  let nemRoot: string;
  let removeNem: () => void;
  let nemFiles: string[];

  beforeAll(async () => {
    ({ dir: nemRoot, remove: removeNem } = tempDir('contracts-nem12'));
    await simulate(nemRoot, {
      meters: 12,
      days: 3,
      start: '2025-09-30',
      seed: 'contracts',
      defects: 0.02,
      nem12: true,
    });
    nemFiles = readManifest(nemRoot)
      .files.filter((f) => f.source === 'nem12')
      .map((f) => f.path);
  });
  afterAll(() => removeNem());

  it('when a simulated NEM12 file is validated with the nem12 contract, then it is accepted with no rejected rows', async () => {
    const contract = contractFor('meter_readings', 'nem12');
    expect([contract.format.type, contract.unit, contract.max_kwh_per_interval]).toEqual([
      'nem12',
      'kWh',
      1000,
    ]);
    expect(nemFiles.length).toBe(3);
    for (const file of nemFiles) {
      const text = readText(nemRoot, file);
      const days = physicalLines(text).filter((l) => l.startsWith('300,')).length;
      const { report, rejected } = await validate(contract, text, { chunkSize: 65_536, path: file });
      expect([file, report.verdict, report.counts.rowsRejected, rejected.length]).toEqual([
        file,
        'accepted',
        0,
        0,
      ]);
      expect([file, report.counts.rowsValid]).toEqual([file, days * 48]);
    }
  });
});
