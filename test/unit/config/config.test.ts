import path from 'node:path';

import { loadConfig, SETTINGS } from '../../../lib/config';
import { ConfigError } from '../../../lib/errors';

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to fail');
}

const azureEnv = {
  LAKEWATT_MODE: 'azure',
  LAKE_BLOB_ENDPOINT: 'https://lakewattdev.blob.core.windows.net',
  LAKE_DFS_ENDPOINT: 'https://lakewattdev.dfs.core.windows.net',
  AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
  TASKHUB_NAME: 'lakewattprod',
  DATABRICKS_HOST: 'https://adb-1234567890123456.7.azuredatabricks.net',
  DATABRICKS_AUTH: 'managed-identity',
  DATABRICKS_SILVER_JOB: 'lakewatt-silver',
  DATABRICKS_GOLD_JOB: 'lakewatt-gold',
};

describe('loadConfig', () => {
  it('when nothing is set, then the local mode runs with its documented defaults', () => {
    const config = loadConfig({});
    expect(config.mode).toBe('local');
    expect(config.home).toBe(path.resolve('.lakewatt'));
    expect(config.lake).toEqual({ kind: 'local', root: path.resolve('.lakewatt', 'lake') });
    expect(config.databricks.auth).toBe('static');
    expect(config.local).toEqual({ hostPort: 7071, jobsPort: 7072 });
    expect(config.prices.zones).toEqual(['DE-LU', 'NL']);
  });

  it("when the local mode has no DATABRICKS_TOKEN, then the client reads the emulator's token file under LAKEWATT_HOME", () => {
    const config = loadConfig({ LAKEWATT_HOME: '/tmp/lw-home' });
    expect(config.databricks.tokenFile).toBe(path.join('/tmp/lw-home', 'secrets', 'jobs-token'));
    expect(loadConfig({ DATABRICKS_TOKEN: 'given' }).databricks.tokenFile).toBeUndefined();
  });

  it('when numbers and lists come as strings, then they are parsed into typed values', () => {
    const config = loadConfig({
      JOB_POLL_MIN_SECONDS: '3',
      PRICES_ZONES: ' AT , NL ',
      LOCAL_HOST_PORT: '8081',
    });
    expect(config.databricks.pollMinSeconds).toBe(3);
    expect(config.prices.zones).toEqual(['AT', 'NL']);
    expect(config.local.hostPort).toBe(8081);
  });

  it('when a value is empty or blank, then it counts as unset', () => {
    expect(loadConfig({ LAKEWATT_HOME: '  ', TASKHUB_NAME: '' }).taskHub).toBe('lakewatt');
  });

  it('when several settings are invalid, then one error names every bad key and what it got', () => {
    const error = configErrorOf({ LAKEWATT_MODE: 'cloud', LOCAL_HOST_PORT: 'eighty', TASKHUB_NAME: '1hub' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues).toHaveLength(3);
    expect(error.message).toContain('LAKEWATT_MODE');
    expect(error.message).toContain('"cloud"');
    expect(error.message).toContain('LOCAL_HOST_PORT');
    expect(error.message).toContain('TASKHUB_NAME');
  });

  it('when the azure mode lacks its endpoints, then each missing key is named', () => {
    const error = configErrorOf({ LAKEWATT_MODE: 'azure' });
    const named = error.issues.map((issue) => issue.split(':')[0]);
    expect(named).toEqual(
      expect.arrayContaining([
        'LAKE_BLOB_ENDPOINT',
        'LAKE_DFS_ENDPOINT',
        'AZURE_CLIENT_ID',
        'DATABRICKS_HOST',
      ]),
    );
  });

  it('when the azure mode is fully configured, then the lake is the blob endpoint with managed identity', () => {
    const config = loadConfig(azureEnv);
    expect(config.lake).toEqual({
      kind: 'azure',
      blobEndpoint: azureEnv.LAKE_BLOB_ENDPOINT,
      dfsEndpoint: azureEnv.LAKE_DFS_ENDPOINT,
      clientId: azureEnv.AZURE_CLIENT_ID,
    });
    expect(config.databricks.auth).toBe('managed-identity');
  });

  it('when the azure mode asks for the emulator token auth, then it is refused', () => {
    const error = configErrorOf({ ...azureEnv, DATABRICKS_AUTH: 'static', DATABRICKS_TOKEN: 'x' });
    expect(error.message).toContain('DATABRICKS_AUTH');
  });

  it('when a personal access token is chosen without a token, then DATABRICKS_TOKEN is named', () => {
    expect(configErrorOf({ DATABRICKS_AUTH: 'pat' }).message).toContain('DATABRICKS_TOKEN');
  });

  it('when ENTSO-E is a price provider without a token, then ENTSOE_SECURITY_TOKEN is named', () => {
    expect(configErrorOf({ PRICES_PROVIDERS: 'entsoe,energy-charts' }).message).toContain(
      'ENTSOE_SECURITY_TOKEN',
    );
  });

  it('when an unknown price provider is listed, then PRICES_PROVIDERS is named', () => {
    expect(configErrorOf({ PRICES_PROVIDERS: 'nordpool' }).message).toContain('PRICES_PROVIDERS');
  });

  it('when the poll backoff starts above its cap, then JOB_POLL_MIN_SECONDS is named', () => {
    expect(configErrorOf({ JOB_POLL_MIN_SECONDS: '90', JOB_POLL_MAX_SECONDS: '60' }).message).toContain(
      'JOB_POLL_MIN_SECONDS',
    );
  });

  it('when a dataset has batch caps of its own, then they are parsed next to the general caps', () => {
    const config = loadConfig({
      BATCH_MAX_FILES: '50',
      BATCH_CAPS_BY_DATASET: '{"meter_readings":{"maxFiles":1000},"prices":{"maxRows":10}}',
    });
    expect(config.batch.maxFiles).toBe(50);
    expect(config.batch.byDataset).toEqual({ meter_readings: { maxFiles: 1000 }, prices: { maxRows: 10 } });
  });

  it.each([
    ['not JSON', '{meter_readings: 1}', 'expected JSON'],
    ['an unknown dataset', '{"meters":{"maxFiles":10}}', 'meters'],
    ['an unknown cap', '{"prices":{"maxFile":10}}', 'maxFile'],
    ['a cap of zero', '{"prices":{"maxFiles":0}}', 'maxFiles'],
  ])('when BATCH_CAPS_BY_DATASET is %s, then the key and the fault are named', (_, value, fault) => {
    const message = configErrorOf({ BATCH_CAPS_BY_DATASET: value }).message;
    expect(message).toContain('BATCH_CAPS_BY_DATASET');
    expect(message).toContain(fault);
  });

  it('when the linger is over ten minutes, then BATCH_LINGER_SECONDS is named', () => {
    expect(configErrorOf({ BATCH_LINGER_SECONDS: '601' }).message).toContain('BATCH_LINGER_SECONDS');
  });

  it('when the series limit is unset, then it is 600,000; when it is not a positive integer, then VALIDATION_MAX_SERIES is named', () => {
    expect(loadConfig({}).validation.maxSeries).toBe(600_000);
    expect(loadConfig({ VALIDATION_MAX_SERIES: '1200000' }).validation.maxSeries).toBe(1_200_000);
    for (const bad of ['0', '-5', '2.5', 'lots']) {
      expect(configErrorOf({ VALIDATION_MAX_SERIES: bad }).message).toContain('VALIDATION_MAX_SERIES');
    }
  });

  it('when the schedule is not a six-field NCRONTAB expression, then PRICES_SCHEDULE is named', () => {
    expect(configErrorOf({ PRICES_SCHEDULE: '15 13 * * *' }).message).toContain('PRICES_SCHEDULE');
  });

  it('when a needed Key Vault reference was left unresolved, then the key is named with that hint', () => {
    const error = configErrorOf({
      PRICES_PROVIDERS: 'entsoe',
      ENTSOE_SECURITY_TOKEN: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/entsoe/)',
    });
    expect(error.issues).toEqual([
      expect.stringMatching(/^ENTSOE_SECURITY_TOKEN: .*Key Vault reference was not resolved/),
    ]);
  });

  it('when an unneeded Key Vault reference was left unresolved, then it is simply unset', () => {
    const config = loadConfig({
      ENTSOE_SECURITY_TOKEN: '@Microsoft.KeyVault(VaultName=kv;SecretName=entsoe)',
    });
    expect(config.prices.entsoeToken).toBeUndefined();
  });

  it('when a setting is secret, then it has no default a deployment could silently rely on', () => {
    const secrets = Object.entries(SETTINGS).filter(
      ([, setting]) => 'secret' in setting.meta && setting.meta.secret,
    );
    expect(secrets.length).toBeGreaterThan(0);
    for (const [key, setting] of secrets) {
      expect({ key, parsed: setting.schema.safeParse(undefined).data }).toEqual({ key, parsed: undefined });
    }
  });

  it('when a secret setting is invalid, then the error names the key and its length but never quotes the value', () => {
    const value = 'short-secret';
    const error = configErrorOf({ PII_HASH_KEY: value, LOCAL_HOST_PORT: 'eighty' });

    expect(error.issues).toEqual([
      `PII_HASH_KEY: at least 16 characters (got a value of ${value.length} characters, not shown: the setting is secret)`,
      expect.stringContaining('(got "eighty")') as string,
    ]);
    expect(error.message).not.toContain(value);
  });
});
