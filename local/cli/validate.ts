import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Command } from 'commander';

import { loadConfig } from '../../lib/config';
import { loadSourceContracts } from '../../lib/contracts/sources';
import { UsageError } from '../../lib/errors';
import { LocalLakeStore } from '../../lib/lake';
import type { ValidationReport } from '../../lib/validation/report';
import { stagingPrefix, validateAndStage } from '../../lib/validation/stage';

interface ValidateOptions {
  dataset: string;
  source: string;
  out?: string;
  json?: boolean;
}

function summary(report: ValidationReport, out: string): string {
  const c = report.counts;
  const lines = [
    `${report.verdict.toUpperCase()}: ${report.file.path} (${report.contract.dataset}/${report.contract.source})`,
    `  rows read ${c.rowsRead}, valid ${c.rowsValid}, rejected ${c.rowsRejected}, duplicates dropped ${c.duplicatesDropped}`,
  ];
  for (const reason of report.reasons) lines.push(`  reason ${reason.code}: ${reason.message}`);
  const failures = Object.entries(report.ruleFailures).sort((a, b) => b[1] - a[1]);
  if (failures.length > 0)
    lines.push(`  row rules: ${failures.map(([code, n]) => `${code} ${n}`).join(', ')}`);
  if (report.firstInterval) lines.push(`  intervals ${report.firstInterval} .. ${report.lastInterval}`);
  for (const note of report.notes) lines.push(`  note: ${note}`);
  lines.push(
    `  ${report.performance.rowsPerSecond} rows/s, ${report.performance.durationMs} ms; outputs under ${out}`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('run the validation engine on a local file without touching the lake')
    .argument('<file>', 'the source file to validate')
    .requiredOption('--dataset <dataset>', 'dataset: meter_readings, customers, contracts or prices')
    .requiredOption('--source <source>', 'source system, as in contracts/sources/')
    .option('--out <dir>', 'where staged and quarantine output go (default: a temporary folder)')
    .option('--json', 'print the validation report as JSON')
    .action(async (file: string, options: ValidateOptions) => {
      const config = loadConfig();
      const registry = await loadSourceContracts(config.sourceContractsDir);
      const contract = registry.resolve(options.dataset, options.source);
      const stat = await fs.stat(file).catch(() => {
        throw new UsageError(`cannot read ${file}`);
      });
      if (!stat.isFile()) throw new UsageError(`${file} is not a file`);
      const out = path.resolve(
        options.out ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-validate-'))),
      );
      const lake = new LocalLakeStore({ root: out });
      await lake.ensureContainer('staging');
      await lake.ensureContainer('quarantine');
      const instanceId = `validate-${stat.mtimeMs.toFixed(0)}-${stat.size}`;
      const report = await validateAndStage(lake, {
        contract,
        instanceId,
        generation: 0,
        now: new Date(),
        limits: config.validation,
        file: {
          path: path.resolve(file),
          etag: `local-${stat.mtimeMs.toFixed(0)}`,
          name: path.basename(file),
        },
        open: () => Promise.resolve(createReadStream(file)),
        copyToQuarantine: async (target) => {
          await lake.createOnly('quarantine', target, createReadStream(file));
        },
      });
      const where = path.join(
        out,
        report.verdict === 'rejected' ? 'quarantine' : 'staging',
        stagingPrefix(contract.dataset, instanceId, 0),
      );
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report, where));
      process.exitCode = report.verdict === 'rejected' ? 1 : 0;
    });
}
