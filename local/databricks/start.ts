import path from 'node:path';

import type { LakewattConfig } from '../../lib/config';
import { UsageError } from '../../lib/errors';
import { localPiiKey } from '../security/piiKey';
import { JobsEmulator } from './emulator';
import { emulatorSettings } from './settings';

export interface LocalEmulatorOverrides {
  port?: number;
  bundleDir?: string;
  target?: string;
  execution?: string;
  prewarm?: boolean;
  log?: (line: string) => void;
}

/**
 * Starts the Jobs API emulator the way every local command does (`lakewatt jobs serve`, `lakewatt dev`):
 * settings from the configuration, command-line overrides on top. Its token is a new random one (in
 * `$LAKEWATT_HOME/secrets/jobs-token`), whatever DATABRICKS_TOKEN says. Its tasks get PII_HASH_KEY, or in
 * local mode without one the state folder's development key (local/security/piiKey.ts), so customers files
 * do not fail in silver for want of a key.
 */
export async function startLocalJobsEmulator(
  config: LakewattConfig,
  overrides: LocalEmulatorOverrides = {},
): Promise<JobsEmulator> {
  const settings = emulatorSettings();
  const execution = overrides.execution ?? settings.execution;
  if (execution !== 'warm' && execution !== 'fresh')
    throw new UsageError("--execution must be 'warm' or 'fresh'");
  const log = overrides.log ?? ((line: string) => process.stderr.write(`jobs-emulator: ${line}\n`));
  return JobsEmulator.start({
    bundleDir: overrides.bundleDir ? path.resolve(overrides.bundleDir) : settings.bundleDir,
    target: overrides.target ?? settings.target,
    home: config.home,
    port: overrides.port ?? config.local.jobsPort,
    execution,
    workers: settings.workers,
    faults: settings.faults,
    prewarm: overrides.prewarm ?? false,
    piiHashKey: localPiiKey(config, log),
    log,
  });
}
