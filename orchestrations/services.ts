import { type LakewattConfig, loadConfig } from '../lib/config';
import { loadSourceContracts, type SourceContractRegistry } from '../lib/contracts/sources';
import { createJobsClient, type JobsClient } from '../lib/databricks';
import { createLakeStore, type LakeStore } from '../lib/lake';

/**
 * What the activities work with, built from the configuration on first use and reused across
 * invocations (one lake client, one Jobs client with its token cache). Rebuilt when the configuration
 * changes, which only happens in tests that run several lakes in one process.
 */
export interface Services {
  config: LakewattConfig;
  lake: LakeStore;
  jobs(): JobsClient;
  contracts(): Promise<SourceContractRegistry>;
}

let cached: { key: string; services: Services } | undefined;

export function services(): Services {
  const config = loadConfig();
  const key = JSON.stringify(config);
  if (cached?.key === key) return cached.services;
  let jobs: JobsClient | undefined;
  let contracts: Promise<SourceContractRegistry> | undefined;
  const built: Services = {
    config,
    lake: createLakeStore(config.lake),
    jobs: () => (jobs ??= createJobsClient(config)),
    contracts: () => {
      contracts ??= loadSourceContracts(config.sourceContractsDir);
      // A failed load (a bad contract file) is reported, not cached: fixing the file fixes the next call.
      contracts.catch(() => (contracts = undefined));
      return contracts;
    },
  };
  cached = { key, services: built };
  return built;
}
