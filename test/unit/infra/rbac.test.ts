import { readFileSync } from 'node:fs';
import path from 'node:path';

import {
  type BicepFile,
  bicepFilePaths,
  expandString,
  fileAt,
  loadInfra,
  parseBicep,
  REPO_ROOT,
} from './bicep';
import {
  ALLOWED_ROLES,
  FORBIDDEN_ROLES,
  inspectRoleAssignments,
  type RoleAssignment,
  roleIdsFrom,
} from './checks';

let files: Map<string, BicepFile>;
let roleIds: Map<string, string>;
let assignments: RoleAssignment[];
let problems: string[];

beforeAll(async () => {
  files = await loadInfra();
  roleIds = roleIdsFrom(fileAt(files, 'infra/modules/roles.bicep'));
  ({ assignments, problems } = inspectRoleAssignments(files.values(), roleIds));
});

const CONTAINER = 'Microsoft.Storage/storageAccounts/blobServices/containers';

/** "container principal role" lines for the lake grants, sorted: the access grid of issue 8. */
function lakeGrid(): string[] {
  return assignments
    .filter((a) => a.file === 'infra/modules/lake-access.bicep')
    .map((a) => `${a.scopeName.split('/').at(-1) ?? ''} ${a.principal} ${a.role}`)
    .sort();
}

describe('role assignments follow least privilege', () => {
  test('when roles.bicep lists role ids, then they are exactly the allow-list', () => {
    expect(Object.fromEntries(roleIds)).toEqual(ALLOWED_ROLES);
  });

  test('when any role is assigned, then its name is guid(scope, principal, role), its scope a resource, its role allowed', () => {
    expect(assignments.length).toBeGreaterThanOrEqual(15);
    expect(problems).toEqual([]);
  });

  test('when the lake is shared out, then each principal gets exactly the container access issue 8 lists', () => {
    expect(lakeGrid()).toEqual(
      [
        'bronze functionPrincipalId storageBlobDataReader',
        'bronze functionPrincipalId storageBlobDataContributor',
        'staging functionPrincipalId storageBlobDataContributor',
        'quarantine functionPrincipalId storageBlobDataContributor',
        'audit functionPrincipalId storageBlobDataContributor',
        'bronze connectorPrincipalId storageBlobDataReader',
        'staging connectorPrincipalId storageBlobDataReader',
        'silver connectorPrincipalId storageBlobDataContributor',
        'gold connectorPrincipalId storageBlobDataContributor',
        'audit connectorPrincipalId storageBlobDataContributor',
        'gold analystsGroupObjectId storageBlobDataReader',
        'bronze writer.principalId storageBlobDataContributor',
        '${deadLetterContainerName} eventGridPrincipalId storageBlobDataContributor',
      ].sort(),
    );
  });

  test('when bronze is read, then only the Function and the Databricks connector can read it (source writers cannot)', () => {
    const lakeAccess = fileAt(files, 'infra/modules/lake-access.bicep');
    const onBronze = assignments.filter((a) => a.scopeName.endsWith('/default/bronze'));
    const readers = onBronze.filter(
      (a) =>
        !(expandString(lakeAccess, a.condition) ?? '').includes(
          "!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})",
        ),
    );

    expect(readers.map((a) => `${a.principal} ${a.role}`).sort()).toEqual([
      'connectorPrincipalId storageBlobDataReader',
      'functionPrincipalId storageBlobDataContributor',
      'functionPrincipalId storageBlobDataReader',
    ]);
    expect(onBronze.map((a) => a.principal).sort()).toEqual([
      'connectorPrincipalId',
      'functionPrincipalId',
      'functionPrincipalId',
      'writer.principalId',
    ]);
  });

  test('when source systems drop files, then each identity may write only its own landing/<dataset>/<source>/ and never read, delete or rename', () => {
    const lakeAccess = fileAt(files, 'infra/modules/lake-access.bicep');
    const grants = assignments.filter((a) => a.principal === 'writer.principalId');
    const condition = expandString(lakeAccess, grants[0]?.condition) ?? '';
    const resource = lakeAccess.resources.find((r) => r.symbol === grants[0]?.symbol);

    expect([grants.length, resource?.loop, grants[0]?.scopeName]).toEqual([
      1,
      true,
      '${bronzeAccountName}/default/bronze',
    ]);
    for (const action of ['read', 'delete', 'move/action']) {
      expect(condition).toContain(
        `(!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/${action}'}))`,
      );
    }
    expect(condition).toContain(
      "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith 'landing/${writer.dataset}/${writer.source}/'",
    );
  });

  test('when any principal may write bronze, then only under a folder of one dataset and one source, never all of landing/', () => {
    const lakeAccess = fileAt(files, 'infra/modules/lake-access.bicep');
    const writers = assignments.filter(
      (a) => a.scopeName.endsWith('/default/bronze') && a.role === 'storageBlobDataContributor',
    );

    expect(writers.length).toBeGreaterThan(0);
    for (const grant of writers) {
      const prefixes = [
        ...(expandString(lakeAccess, grant.condition) ?? '').matchAll(/StringStartsWith '([^']*)'/g),
      ].map((m) => m[1]!);
      expect([grant.symbol, prefixes.length > 0]).toEqual([grant.symbol, true]);
      for (const prefix of prefixes)
        expect([grant.symbol, prefix]).toEqual([
          grant.symbol,
          expect.stringMatching(/^landing\/[^/]+\/[^/]+\/$/),
        ]);
    }
  });

  test('when a blob data role is granted on the lake, then it is scoped to one container, never the account', () => {
    const lakeGrants = assignments.filter(
      (a) => a.role.startsWith('storageBlob') && a.file !== 'infra/modules/host-storage.bicep',
    );

    expect(lakeGrants.length).toBeGreaterThan(0);
    for (const grant of lakeGrants)
      expect([grant.symbol, grant.scopeType]).toEqual([grant.symbol, CONTAINER]);
  });

  test('when the analysts group is granted access, then it is read-only on gold and nothing else', () => {
    const analysts = assignments.filter((a) => a.principal === 'analystsGroupObjectId');

    expect(analysts.map((a) => [a.scopeName, a.role, a.principalType])).toEqual([
      ['${goldAccountName}/default/gold', 'storageBlobDataReader', 'Group'],
    ]);
  });

  test('when the Function writes audit records, then a condition forbids deleting or renaming them and writing outside runs/', () => {
    const lakeAccess = fileAt(files, 'infra/modules/lake-access.bicep');
    const grant = assignments.find((a) => a.symbol === 'functionWritesAudit');
    const condition = expandString(lakeAccess, grant?.condition) ?? '';

    expect(condition).toContain(
      "!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})",
    );
    expect(condition).toContain(
      "!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action'})",
    );
    expect(condition).toContain(
      "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith 'runs/'",
    );
  });

  test('when Databricks writes to audit, then a condition limits writes to job-runs/ and forbids deletes', () => {
    const lakeAccess = fileAt(files, 'infra/modules/lake-access.bicep');
    const grant = assignments.find((a) => a.symbol === 'connectorWritesManifests');
    const condition = expandString(lakeAccess, grant?.condition) ?? '';

    expect(condition).toContain(
      "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith 'job-runs/'",
    );
    expect(condition).toContain(
      "!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'})",
    );
    expect(condition).toContain(
      "!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})",
    );
  });

  test('when any infra file is read, then no broad role id (Owner, Contributor, Blob Data Owner, ...) appears', () => {
    const infraTexts = bicepFilePaths().map((file) => [file, readFileSync(file, 'utf8')] as const);
    const yaml = readFileSync(path.join(REPO_ROOT, 'azure.yaml'), 'utf8');

    for (const [file, text] of [...infraTexts, ['azure.yaml', yaml] as const]) {
      for (const [role, id] of Object.entries(FORBIDDEN_ROLES)) {
        expect([file, role, text.toLowerCase().includes(id)]).toEqual([file, role, false]);
      }
    }
  });

  test('when the Function identity is granted anything, then it is never on the Databricks workspace', () => {
    const onWorkspace = assignments.filter((a) => a.scopeType.startsWith('Microsoft.Databricks/'));

    expect(onWorkspace).toEqual([]);
  });
});

describe('the role-assignment checker itself', () => {
  const bad = `
resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 'x'
}
resource broad 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: 'fixed-name'
  scope: resourceGroup()
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')
    principalId: principalId
  }
}
resource mismatched 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(sa.id, otherPrincipal, roleIds.storageBlobDataReader)
  scope: sa
  properties: {
    roleDefinitionId: roleDefinitionId(roleIds.storageBlobDataContributor)
    principalId: principalId
  }
}
`;

  test('when a snippet assigns Contributor on the resource group under a fixed name, then every rule is flagged', async () => {
    const file = await parseBicep(bad, 'bad.bicep');

    const { problems: found } = inspectRoleAssignments([file], roleIds);

    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/broad: scope resourceGroup\(\) is not a resource of this file/),
        expect.stringMatching(/broad: name 'fixed-name' is not guid/),
        expect.stringMatching(/broad: role .* is not in the allow-list/),
        expect.stringMatching(/mismatched: guid's principal otherPrincipal is not principalId/),
        expect.stringMatching(/mismatched: guid's role .* is not the assigned role/),
      ]),
    );
  });

  test('when a subscription-scope file assigns a role, then it is flagged', async () => {
    const file = await parseBicep(`targetScope = 'subscription'\n${bad}`, 'sub.bicep');

    expect(inspectRoleAssignments([file], roleIds).problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/role assignment in a subscription-scope file/)]),
    );
  });
});
