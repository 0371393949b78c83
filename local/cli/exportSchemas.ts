import { promises as fs } from 'node:fs';
import path from 'node:path';

import type { Command } from 'commander';

import { exportDatasetContracts } from '../../lib/contracts/datasets';

export const EXPORTED_CONTRACTS_PATH = 'databricks/src/lakewatt/contracts/datasets.json';

export function renderExportedContracts(): string {
  return `${JSON.stringify(exportDatasetContracts(), null, 2)}\n`;
}

export function registerExportSchemas(program: Command): void {
  program
    .command('export-schemas')
    .description(`write the dataset contracts for the Spark jobs to ${EXPORTED_CONTRACTS_PATH}`)
    .option('--root <dir>', 'repository root', '.')
    .action(async (options: { root: string }) => {
      const target = path.join(options.root, EXPORTED_CONTRACTS_PATH);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, renderExportedContracts());
      process.stdout.write(`wrote ${target}\n`);
    });
}
