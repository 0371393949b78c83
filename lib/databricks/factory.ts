import type { LakewattConfig } from '../config';
import { ConfigError } from '../errors';
import { createTokenProvider } from './auth';
import { JobsClient, type JobsClientOptions } from './jobsClient';

/**
 * The Jobs client for the loaded configuration: the workspace in Azure (managed identity, the app's
 * user-assigned identity when AZURE_CLIENT_ID is set), the emulator locally (static token).
 */
export function createJobsClient(
  config: Pick<LakewattConfig, 'databricks' | 'lake'>,
  options: Omit<JobsClientOptions, 'host' | 'tokens'> = {},
): JobsClient {
  const { host, auth, token, tokenFile } = config.databricks;
  if (!host) throw new ConfigError(['DATABRICKS_HOST: required to call the Jobs API']);
  const clientId = config.lake.kind === 'azure' ? config.lake.clientId : undefined;
  return new JobsClient({
    ...options,
    host,
    tokens: createTokenProvider({ auth, token, tokenFile, managedIdentityClientId: clientId }),
  });
}
