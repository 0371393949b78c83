import { bicepFilePaths, BicepSyntaxError, loadInfra, parseBicep, prop } from './bicep';

describe('Bicep files parse with the tree-sitter Bicep grammar', () => {
  test('when every .bicep file under infra/ is parsed, then none has a syntax error', async () => {
    const files = await loadInfra();

    expect(files.size).toBe(bicepFilePaths().length);
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([
        'infra/main.bicep',
        'infra/eventgrid-subscription.bicep',
        'infra/modules/lake-account.bicep',
        'infra/modules/lake-access.bicep',
        'infra/modules/function-app.bicep',
        'infra/modules/databricks.bicep',
      ]),
    );
  });

  test('when a file has a broken object, then parsing fails with the line of the error', async () => {
    const broken =
      "resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n  properties: {\n    isHnsEnabled: \n}\n";

    const failure = parseBicep(broken, 'broken.bicep');

    await expect(failure).rejects.toBeInstanceOf(BicepSyntaxError);
    await expect(failure).rejects.toThrow(/broken\.bicep: \d+ syntax problem/);
  });

  test('when a string is not terminated, then parsing fails on the MISSING token', async () => {
    await expect(parseBicep("param location string = 'westeurope\n")).rejects.toThrow(/MISSING/);
  });

  test('when a file declares a param or var, then the file uses it (the Bicep linter would reject it otherwise)', async () => {
    const unused: string[] = [];
    for (const file of (await loadInfra()).values()) {
      // Comments start a line or follow whitespace; `https://` inside strings is not one.
      const code = file.source.replace(/(^|\s)\/\/.*$/gm, '');
      // roles.bicep exports roleIds to the files that import it.
      const exported = new Set(file.file === 'infra/modules/roles.bicep' ? ['roleIds'] : []);
      for (const name of [...file.params.keys(), ...file.vars.keys()]) {
        const uses = code.match(new RegExp(`(?<![\\w.'])${name}\\b`, 'g'))?.length ?? 0;
        if (uses < 2 && !exported.has(name)) unused.push(`${file.file}: ${name}`);
      }
    }

    expect(unused).toEqual([]);
  });

  test('when a module is called, then its params are an object literal (Bicep rejects anything else)', async () => {
    for (const file of (await loadInfra()).values()) {
      for (const module of file.modules) {
        expect([module.symbol, prop(module.body, 'params')?.kind]).toEqual([module.symbol, 'object']);
      }
    }
  });

  test('when main.bicep is parsed, then it targets the subscription and composes the modules', async () => {
    const main = (await loadInfra()).get('infra/main.bicep');

    expect(main?.targetScope).toBe('subscription');
    expect(main?.modules.map((m) => m.source)).toEqual(
      expect.arrayContaining([
        'modules/lake-account.bicep',
        'modules/lake-access.bicep',
        'modules/function-app.bicep',
        'modules/event-grid-topic.bicep',
        'modules/databricks.bicep',
        'modules/keyvault.bicep',
        'modules/monitoring.bicep',
      ]),
    );
  });
});
