import {
  type BicepFile,
  fileAt,
  literalBoolean,
  literalString,
  literalStrings,
  loadInfra,
  prop,
  resourcesOfType,
  type Value,
} from './bicep';

let files: Map<string, BicepFile>;
let lakeAccount: BicepFile;
let main: BicepFile;

beforeAll(async () => {
  files = await loadInfra();
  lakeAccount = fileAt(files, 'infra/modules/lake-account.bicep');
  main = fileAt(files, 'infra/main.bicep');
});

function accounts() {
  return resourcesOfType(files.values(), 'Microsoft.Storage/storageAccounts');
}

function body(file: BicepFile, symbol: string): Value | undefined {
  return file.resources.find((r) => r.symbol === symbol)?.body;
}

describe('storage accounts are secure by default', () => {
  test('when any storage account is declared, then public blob access and shared keys are off and TLS 1.2 is the minimum', () => {
    expect(accounts().length).toBeGreaterThanOrEqual(2);
    for (const { file, resource } of accounts()) {
      const at = `${file.file} ${resource.symbol}`;
      expect([at, literalBoolean(file, prop(resource.body, 'properties.allowBlobPublicAccess'))]).toEqual([
        at,
        false,
      ]);
      expect([at, literalBoolean(file, prop(resource.body, 'properties.allowSharedKeyAccess'))]).toEqual([
        at,
        false,
      ]);
      expect([at, literalString(file, prop(resource.body, 'properties.minimumTlsVersion'))]).toEqual([
        at,
        'TLS1_2',
      ]);
      expect([at, literalBoolean(file, prop(resource.body, 'properties.supportsHttpsTrafficOnly'))]).toEqual([
        at,
        true,
      ]);
      expect([
        at,
        literalBoolean(file, prop(resource.body, 'properties.defaultToOAuthAuthentication')),
      ]).toEqual([at, true]);
    }
  });

  test('when the lake account is declared, then the hierarchical namespace (ADLS Gen2) is on', () => {
    const account = body(lakeAccount, 'account');

    expect(literalBoolean(lakeAccount, prop(account, 'properties.isHnsEnabled'))).toBe(true);
    expect(literalString(lakeAccount, prop(account, 'kind'))).toBe('StorageV2');
  });

  test('when containers are created, then none allows anonymous access', () => {
    const containers = resourcesOfType(
      files.values(),
      'Microsoft.Storage/storageAccounts/blobServices/containers',
    );

    expect(containers.length).toBeGreaterThan(0);
    for (const { file, resource } of containers) {
      expect([resource.symbol, literalString(file, prop(resource.body, 'properties.publicAccess'))]).toEqual([
        resource.symbol,
        'None',
      ]);
    }
  });

  test('when the lake is deployed, then every layer container and the dead-letter container exist', () => {
    const functionContainers = literalStrings(main, main.vars.get('functionContainers'));
    const deadLetter = literalString(main, main.vars.get('deadLetterContainerName'));
    const all = main.vars.get('allLakeContainers');

    expect(functionContainers).toEqual(['bronze', 'staging', 'quarantine', 'audit', deadLetter]);
    expect(all?.text).toBe("concat(functionContainers, ['silver', 'gold'])");
  });

  test('when blobs or containers are deleted, then soft delete keeps them for the configured days', () => {
    const service = body(lakeAccount, 'blobService');

    expect(prop(service, 'properties.deleteRetentionPolicy.enabled')?.text).toBe('true');
    expect(prop(service, 'properties.deleteRetentionPolicy.days')?.text).toBe('blobSoftDeleteDays');
    expect(prop(service, 'properties.containerDeleteRetentionPolicy.enabled')?.text).toBe('true');
    expect(prop(service, 'properties.containerDeleteRetentionPolicy.days')?.text).toBe(
      'containerSoftDeleteDays',
    );
  });

  test('when lifecycle rules apply, then staging expires and bronze cools after parameterised ages', () => {
    const staging = lakeAccount.vars.get('stagingRule');
    const tiering = lakeAccount.vars.get('bronzeTiering');
    const bronze = lakeAccount.vars.get('bronzeRule');

    expect(literalStrings(lakeAccount, prop(staging, 'definition.filters.prefixMatch'))).toEqual([
      'staging/',
    ]);
    expect(prop(staging, 'definition.actions.baseBlob.delete.daysAfterModificationGreaterThan')?.text).toBe(
      'stagingRetentionDays',
    );
    expect(literalStrings(lakeAccount, prop(bronze, 'definition.filters.prefixMatch'))).toEqual(['bronze/']);
    expect(tiering?.text).toContain('tierToCool: { daysAfterModificationGreaterThan: bronzeCoolAfterDays }');
    expect(lakeAccount.params.has('stagingRetentionDays')).toBe(true);
    expect(lakeAccount.params.has('bronzeCoolAfterDays')).toBe(true);
    expect(main.params.get('stagingRetentionDays')?.defaultValue?.text).toBe('14');
    expect(main.params.get('bronzeCoolAfterDays')?.defaultValue?.text).toBe('30');
  });

  test('when data is read or written, then the blob service logs reads, writes and deletes to Log Analytics', () => {
    const diagnostics = lakeAccount.resources.find((r) => r.type === 'Microsoft.Insights/diagnosticSettings');
    const logs = prop(diagnostics?.body, 'properties.logs');
    const categories =
      logs?.kind === 'array'
        ? logs.items.map((item) => [
            literalString(lakeAccount, prop(item, 'category')),
            prop(item, 'enabled')?.text,
          ])
        : [];

    expect(prop(diagnostics?.body, 'scope')?.text).toBe('blobService');
    expect(prop(diagnostics?.body, 'properties.workspaceId')?.text).toBe('logAnalyticsId');
    expect(categories).toEqual(
      expect.arrayContaining([
        ['StorageRead', 'true'],
        ['StorageWrite', 'true'],
        ['StorageDelete', 'true'],
      ]),
    );
  });

  test('when separate layer accounts are asked for, then silver and gold get their own HNS accounts', () => {
    const silver = main.modules.find((m) => m.symbol === 'lakeSilver');
    const gold = main.modules.find((m) => m.symbol === 'lakeGold');
    const lake = main.modules.find((m) => m.symbol === 'lake');

    expect(main.params.get('separateLayerAccounts')?.type).toBe('bool');
    expect(silver?.source).toBe('modules/lake-account.bicep');
    expect(silver?.conditional).toBe(true);
    expect(prop(silver?.body, 'params.containers')?.text).toBe("['silver']");
    expect(gold?.conditional).toBe(true);
    expect(prop(gold?.body, 'params.containers')?.text).toBe("['gold']");
    expect(prop(lake?.body, 'params.containers')?.text).toBe(
      'separateLayerAccounts ? functionContainers : allLakeContainers',
    );
  });
});

describe('audit records cannot be overwritten', () => {
  test('when the audit container exists, then a time-based retention policy without append writes covers it', () => {
    const policies = lakeAccount.resources.filter(
      (r) => r.type === 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies',
    );

    expect(policies.map((p) => prop(p.body, 'name')?.text)).toEqual(["'${name}/default/audit/default'"]);
    const policy = policies[0]!;
    expect(policy.conditional).toBe(true);
    expect(literalBoolean(lakeAccount, prop(policy.body, 'properties.allowProtectedAppendWrites'))).toBe(
      false,
    );
    expect(literalBoolean(lakeAccount, prop(policy.body, 'properties.allowProtectedAppendWritesAll'))).toBe(
      false,
    );
    expect(prop(policy.body, 'properties.immutabilityPeriodSinceCreationInDays')?.text).toBe(
      'auditRetentionDays',
    );
  });

  test('when the platform is deployed, then the audit retention is a parameter of at least a year by default', () => {
    const days = main.params.get('auditRetentionDays')?.defaultValue;

    expect(days?.kind).toBe('number');
    expect(Number(days?.text)).toBeGreaterThanOrEqual(365);
    const bronze = main.modules.find((m) => m.symbol === 'lake');
    expect(prop(bronze?.body, 'params.auditRetentionDays')?.text).toBe('auditRetentionDays');
  });
});
