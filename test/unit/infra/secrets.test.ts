import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { type BicepFile, bicepFilePaths, loadInfra, parseBicep, REPO_ROOT } from './bicep';
import { bicepSecretProblems, scanForSecrets } from './checks';

let files: Map<string, BicepFile>;

beforeAll(async () => {
  files = await loadInfra();
});

/** Everything issue 8 owns that could carry a secret: Bicep, parameters, azure.yaml, hooks, docs. */
function ownedTextFiles(): string[] {
  const infra = path.join(REPO_ROOT, 'infra');
  const scripts = path.join(REPO_ROOT, 'scripts');
  return [
    ...bicepFilePaths(),
    ...readdirSync(infra)
      .filter((name) => name.endsWith('.json'))
      .map((name) => path.join(infra, name)),
    path.join(REPO_ROOT, 'azure.yaml'),
    ...readdirSync(scripts)
      .filter((name) => /^azd-.*\.sh$/.test(name))
      .map((name) => path.join(scripts, name)),
    path.join(REPO_ROOT, 'docs', 'deploy.md'),
    path.join(REPO_ROOT, 'docs', 'decisions', '0003-infrastructure.md'),
  ];
}

describe('no secret literal anywhere in the infrastructure', () => {
  test('when the infra, azure.yaml, hook and deploy docs are scanned, then no key, token, password or connection string is found', () => {
    const scanned = ownedTextFiles();
    const findings = scanned.flatMap((file) =>
      scanForSecrets(readFileSync(file, 'utf8'), path.relative(REPO_ROOT, file)),
    );

    expect(scanned.length).toBeGreaterThan(15);
    expect(findings).toEqual([]);
  });

  test('when Bicep declares secure parameters, outputs and listKeys calls, then none leaks a secret', () => {
    const problems = [...files.values()].flatMap(bicepSecretProblems);

    expect(problems).toEqual([]);
  });

  test('when the ENTSO-E token is passed in, then it is a @secure() parameter with an empty default', () => {
    const main = files.get('infra/main.bicep');
    const token = main?.params.get('entsoeSecurityToken');

    expect(token?.decorators).toContain('secure');
    expect(token?.defaultValue?.text).toBe("''");
  });
});

describe('the secret scanners themselves', () => {
  test('when a text holds a storage connection string, a PAT, a SAS or a password, then each is flagged', () => {
    const fakeKey = ['Zm9vYmFy', 'QkFaMTIz', 'cXV4Nzg5', 'WllYV3Zz', 'dHN1MDk4', 'NzY1NDMy'].join('');
    const text = [
      `AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${fakeKey}'`,
      `token: 'dapi${'0123456789abcdef'.repeat(2)}'`,
      `url: 'https://x.blob.core.windows.net/c?sv=2022&sig=${'AbCd1234'.repeat(4)}'`,
      `password: 'hunter2hunter2'`,
    ].join('\n');

    const rules = scanForSecrets(text, 'bad.txt').map((f) => f.rule);

    expect(rules).toEqual(
      expect.arrayContaining([
        'storage account key in a connection string',
        'storage connection string',
        'Databricks personal access token',
        'SAS signature',
        'password or secret literal',
        'high-entropy key-like literal',
      ]),
    );
  });

  test('when Bicep has a defaulted secure param, a secret output or listKeys on storage, then each is flagged', async () => {
    const file = await parseBicep(
      [
        "resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {",
        "  name: 'x'",
        '}',
        '@secure()',
        "param adminPassword string = 'not-empty'",
        'param apiToken string',
        'output storageKey string = sa.listKeys().keys[0].value',
        "output other string = listKeys(sa.id, '2023-05-01').keys[0].value",
      ].join('\n'),
      'bad.bicep',
    );

    expect(bicepSecretProblems(file)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/@secure\(\) param adminPassword has a default/),
        expect.stringMatching(/param apiToken looks like a secret but is not @secure/),
        expect.stringMatching(/output storageKey looks like a secret/),
        expect.stringMatching(/listKeys\(sa\.id\) is not the Functions host keys/),
        expect.stringMatching(/reads storage keys or SAS tokens/),
      ]),
    );
  });
});
