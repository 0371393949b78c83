import type { Command } from 'commander';

import { registerDev } from './dev';
import { registerExportSchemas } from './exportSchemas';
import { registerJobs } from './jobs';
import { registerRuns } from './runs';
import { registerSimulate } from './simulate';
import { registerSql } from './sql';
import { registerValidate } from './validate';

/** Every subcommand registers itself here, one module per command. */
export function registerCommands(program: Command): void {
  registerDev(program);
  registerExportSchemas(program);
  registerJobs(program);
  registerRuns(program);
  registerSimulate(program);
  registerSql(program);
  registerValidate(program);
}
