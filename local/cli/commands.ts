import type { Command } from 'commander';

import { registerDemo } from './demo';
import { registerDev } from './dev';
import { registerDrop } from './drop';
import { registerExportSchemas } from './exportSchemas';
import { registerFreshness } from './freshness';
import { registerJobs } from './jobs';
import { registerPullPrices } from './pullPrices';
import { registerRuns } from './runs';
import { registerSimulate } from './simulate';
import { registerSql } from './sql';
import { registerUi } from './ui';
import { registerValidate } from './validate';

/** Every subcommand registers itself here, one module per command. */
export function registerCommands(program: Command): void {
  registerDemo(program);
  registerDev(program);
  registerDrop(program);
  registerExportSchemas(program);
  registerFreshness(program);
  registerJobs(program);
  registerPullPrices(program);
  registerRuns(program);
  registerSimulate(program);
  registerSql(program);
  registerUi(program);
  registerValidate(program);
}
