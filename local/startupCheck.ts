import { type LakewattConfig, loadConfig } from '../lib/config';
import { loadSourceContracts } from '../lib/contracts/sources';
import { ConfigError, ContractError } from '../lib/errors';

/**
 * The start-up check of the local runtime: every setting the pipeline will need is read now, so a bad or
 * missing one stops the start with the key named instead of failing the first file that needs it (the app's
 * activities read their settings on first use). The PII key is settled when the Jobs emulator starts
 * (local/databricks/start.ts); this covers the rest.
 */
export async function checkPipelineSettings(config: LakewattConfig): Promise<void> {
  // What the activities will read: the process's settings, after the runtime pointed them at its emulator.
  loadConfig();
  try {
    await loadSourceContracts(config.sourceContractsDir);
  } catch (error) {
    if (error instanceof ContractError)
      throw new ConfigError([
        `SOURCE_CONTRACTS_DIR: ${error.message} (SOURCE_CONTRACTS_DIR is ${config.sourceContractsDir})`,
      ]);
    throw error;
  }
}
