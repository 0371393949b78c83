import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';

import { parse } from 'yaml';

import { type BicepFile, fileAt, literalString, loadInfra, prop, REPO_ROOT } from './bicep';

interface HookSpec {
  shell?: string;
  run?: string;
}
interface AzureYaml {
  name?: string;
  infra?: { provider?: string; path?: string; module?: string };
  services?: Record<
    string,
    { project?: string; language?: string; host?: string; hooks?: Record<string, { posix?: HookSpec }> }
  >;
  hooks?: Record<string, { posix?: HookSpec }>;
}

const azureYaml = parse(readFileSync(path.join(REPO_ROOT, 'azure.yaml'), 'utf8')) as AzureYaml;

function script(name: string): string {
  return readFileSync(path.join(REPO_ROOT, 'scripts', name), 'utf8');
}

let files: Map<string, BicepFile>;

beforeAll(async () => {
  files = await loadInfra();
});

describe('azure.yaml wires provisioning, the bundle and the Event Grid subscription in order', () => {
  test('when azd reads azure.yaml, then it provisions infra/main.bicep and deploys the app as a TypeScript function', () => {
    expect(azureYaml.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
    expect(azureYaml.services?.pipeline).toMatchObject({ project: '.', language: 'ts', host: 'function' });
  });

  test('when azd packages the app, then a prepackage hook builds the console into dist/console first', () => {
    const run = azureYaml.services?.pipeline?.hooks?.prepackage?.posix?.run ?? '';

    expect(Object.keys(azureYaml.services?.pipeline?.hooks ?? {})).toEqual(['prepackage']);
    expect(run).toBe('./scripts/azd-prepackage.sh');
    expect(() => accessSync(path.join(REPO_ROOT, run), constants.X_OK)).not.toThrow();
    expect(script('azd-prepackage.sh')).toContain('node dist/local/console/build.js');
  });

  test('when azd runs the hooks, then each one is an existing, executable script', () => {
    const hooks = azureYaml.hooks ?? {};

    expect(Object.keys(hooks).sort()).toEqual(['postdeploy', 'postprovision', 'preprovision']);
    for (const [name, hook] of Object.entries(hooks)) {
      const run = hook.posix?.run ?? '';
      expect([name, run]).toEqual([name, `./scripts/azd-${name}.sh`]);
      expect(() => accessSync(path.join(REPO_ROOT, run), constants.X_OK)).not.toThrow();
    }
  });

  test('when the function app is tagged, then azd can find it as the pipeline service', () => {
    const main = fileAt(files, 'infra/main.bicep');
    const module = main.modules.find((m) => m.source === 'modules/function-app.bicep');

    expect(prop(module?.body, 'params.tags')?.text).toBe("union(tags, { 'azd-service-name': 'pipeline' })");
  });

  test('when code is deployed, then the postdeploy hook deploys the Event Grid subscription template', () => {
    const hook = script('azd-postdeploy.sh');

    expect(hook).toContain('infra/eventgrid-subscription.bicep');
    expect(hook).toContain('az deployment group create');
    expect(hook).toContain('systemKeys.eventgrid_extension != `null`');
  });

  test('when provisioning finishes, then the bundle is deployed to prod and the job ids are recorded', () => {
    const hook = script('azd-databricks.sh');

    expect(script('azd-postprovision.sh')).toContain('azd-databricks.sh');
    expect(hook).toContain('set -- deploy -t prod');
    expect(hook).toContain('databricks bundle "$@"');
    expect(hook).toContain('azd_env_set DATABRICKS_SILVER_JOB_ID');
    expect(hook).toContain('DATABRICKS_SILVER_JOB_ID=$silver_id');
  });

  test('when the Function identity is added to Databricks, then it is a service principal with CAN_MANAGE_RUN on the jobs only', () => {
    const hook = script('azd-databricks.sh');

    expect(hook).toContain('databricks service-principals create');
    expect(hook).toContain('"permission_level\\":\\"CAN_MANAGE_RUN\\"');
    expect(hook).not.toMatch(/CAN_MANAGE\\"|IS_OWNER|admins/);
    expect(hook).not.toMatch(/tokens create|DATABRICKS_TOKEN=/);
  });
});

describe('Databricks is a Premium workspace with an access connector', () => {
  test('when the workspace is declared, then it is Premium with no public IPs on clusters', () => {
    const dbw = fileAt(files, 'infra/modules/databricks.bicep');
    const workspace = dbw.resources.find((r) => r.type === 'Microsoft.Databricks/workspaces');
    const connector = dbw.resources.find((r) => r.type === 'Microsoft.Databricks/accessConnectors');

    expect(literalString(dbw, prop(workspace?.body, 'sku.name'))).toBe('premium');
    expect(prop(workspace?.body, 'properties.parameters.enableNoPublicIp.value')?.text).toBe('true');
    expect(literalString(dbw, prop(connector?.body, 'identity.type'))).toBe('SystemAssigned');
  });

  test('when the job ids are recorded, then the next provision keeps them through main.parameters.json', () => {
    const parameters = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'infra', 'main.parameters.json'), 'utf8'),
    ) as {
      parameters: Record<string, { value: string }>;
    };

    expect(parameters.parameters.databricksSilverJobId?.value).toBe('${DATABRICKS_SILVER_JOB_ID=}');
    expect(parameters.parameters.databricksGoldJobId?.value).toBe('${DATABRICKS_GOLD_JOB_ID=}');
  });
});
