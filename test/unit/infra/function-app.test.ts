import { readFileSync } from 'node:fs';
import path from 'node:path';

import { type SettingKey, SETTINGS } from '../../../lib/config';
import { DATABRICKS_USER_SCOPE } from '../../../lib/console/sqlStatements';
import {
  type BicepFile,
  expandString,
  fileAt,
  literalString,
  literalStrings,
  loadInfra,
  prop,
  REPO_ROOT,
  resolve,
  type Value,
} from './bicep';

let files: Map<string, BicepFile>;
let app: BicepFile;
let main: BicepFile;

beforeAll(async () => {
  files = await loadInfra();
  app = fileAt(files, 'infra/modules/function-app.bicep');
  main = fileAt(files, 'infra/main.bicep');
});

/** Platform settings the Bicep sets beyond lib/config.ts, each with the reason it exists. */
const PLATFORM_SETTINGS = new Set([
  'AzureWebJobsStorage__credential', // host storage with the managed identity
  'AzureWebJobsStorage__clientId',
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__tableServiceUri',
  'APPLICATIONINSIGHTS_CONNECTION_STRING', // endpoint and component id; auth is Entra ID (below)
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'DATABRICKS_SILVER_JOB_ID', // recorded by the bundle deploy hook; proposed config keys
  'DATABRICKS_GOLD_JOB_ID',
  'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID', // Easy Auth's sign-in credential: the managed identity, no secret
]);

function appSettings(): Map<string, Value> {
  const resource = app.resources.find(
    (r) =>
      r.type === 'Microsoft.Web/sites/config' && literalString(app, prop(r.body, 'name')) === 'appsettings',
  );
  const properties = prop(resource?.body, 'properties');
  if (properties?.kind !== 'object') throw new Error('no appsettings resource with an object literal');
  return properties.props;
}

function azureKeys(): SettingKey[] {
  return (Object.keys(SETTINGS) as SettingKey[]).filter((key) => SETTINGS[key].meta.azure !== 'local-only');
}

/** The literal value an app setting ends up with, following function-app params to main.bicep defaults. */
function effectiveLiteral(value: Value): string | undefined {
  const direct = literalString(app, value);
  if (direct !== undefined) return direct;
  const unwrapped = value.kind === 'call' && value.fn === 'string' ? value.args[0] : value;
  if (unwrapped?.kind !== 'ref' || !app.params.has(unwrapped.name)) return undefined;
  const module = main.modules.find((m) => m.source === 'modules/function-app.bicep');
  const passed = resolve(main, prop(module?.body, `params.${unwrapped.name}`));
  if (passed?.kind === 'string' && !passed.interpolated) return passed.value;
  if (passed?.kind === 'number' || passed?.kind === 'boolean') return passed.text;
  return undefined;
}

describe('the Function App gets every setting of the configuration schema', () => {
  test('when SETTINGS marks a key required or optional in Azure, then the Bicep sets it as an app setting', () => {
    const set = [...appSettings().keys()];

    expect(azureKeys().length).toBeGreaterThan(10);
    expect(azureKeys().filter((key) => !set.includes(key))).toEqual([]);
  });

  test('when the Bicep sets an app setting, then it is a SETTINGS key or a listed platform setting', () => {
    const unknown = [...appSettings().keys()].filter(
      (key) => !(key in SETTINGS) && !PLATFORM_SETTINGS.has(key),
    );
    const localOnly = [...appSettings().keys()].filter(
      (key) => key in SETTINGS && SETTINGS[key as SettingKey].meta.azure === 'local-only',
    );

    expect(unknown).toEqual([]);
    expect(localOnly).toEqual([]);
  });

  test('when the app runs in Azure, then LAKEWATT_MODE is azure and Databricks uses the managed identity', () => {
    expect(literalString(app, appSettings().get('LAKEWATT_MODE'))).toBe('azure');
    expect(literalString(app, appSettings().get('DATABRICKS_AUTH'))).toBe('managed-identity');
    expect(appSettings().get('AZURE_CLIENT_ID')?.text).toBe('identityClientId');
  });

  test('when a setting is secret, then its value is a Key Vault reference', () => {
    const secretKeys = azureKeys().filter((key) => SETTINGS[key].meta.secret === true);

    expect(secretKeys.length).toBeGreaterThan(0);
    for (const key of secretKeys) {
      expect([key, appSettings().get(key)?.text]).toEqual([
        key,
        expect.stringMatching(/^'@Microsoft\.KeyVault\(VaultName=/),
      ]);
    }
  });

  test('when a setting resolves to a literal, then the configuration schema accepts it', () => {
    let checked = 0;
    for (const key of azureKeys()) {
      const value = appSettings().get(key);
      const literal = value ? effectiveLiteral(value) : undefined;
      if (literal === undefined || literal.startsWith('@Microsoft.KeyVault(')) continue;
      // An empty app setting is unset for loadConfig: fine for an optional key only.
      if (literal.trim() === '') {
        expect([key, SETTINGS[key].meta.azure]).toEqual([key, 'optional']);
        continue;
      }
      checked += 1;
      const result = SETTINGS[key].schema.safeParse(literal);
      expect([key, literal, result.success]).toEqual([key, literal, true]);
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  });
});

describe('the Function App runs on Flex Consumption with identity-based connections', () => {
  test('when the plan and site are declared, then they are Flex Consumption, Node 22, HTTPS only', () => {
    const plan = app.resources.find((r) => r.type === 'Microsoft.Web/serverfarms');
    const site = app.resources.find((r) => r.type === 'Microsoft.Web/sites');

    expect(literalString(app, prop(plan?.body, 'sku.tier'))).toBe('FlexConsumption');
    expect(literalString(app, prop(plan?.body, 'sku.name'))).toBe('FC1');
    expect(literalString(app, prop(site?.body, 'properties.functionAppConfig.runtime.name'))).toBe('node');
    expect(literalString(app, prop(site?.body, 'properties.functionAppConfig.runtime.version'))).toBe('22');
    expect(prop(site?.body, 'properties.httpsOnly')?.text).toBe('true');
    expect(literalString(app, prop(site?.body, 'identity.type'))).toBe('UserAssigned');
    expect(prop(site?.body, 'properties.keyVaultReferenceIdentity')?.text).toBe('identityId');
    expect(
      literalString(
        app,
        prop(site?.body, 'properties.functionAppConfig.deployment.storage.authentication.type'),
      ),
    ).toBe('UserAssignedIdentity');
  });

  test('when the host storage connection is configured, then it uses the managed identity and no connection string', () => {
    const settings = appSettings();

    expect(literalString(app, settings.get('AzureWebJobsStorage__credential'))).toBe('managedidentity');
    expect(settings.get('AzureWebJobsStorage__clientId')?.text).toBe('identityClientId');
    for (const service of ['blob', 'queue', 'table']) {
      expect(settings.get(`AzureWebJobsStorage__${service}ServiceUri`)?.text).toBe(
        `hostStorage.properties.primaryEndpoints.${service}`,
      );
    }
    expect(settings.has('AzureWebJobsStorage')).toBe(false);
    for (const [key, value] of settings) {
      expect([key, value.text]).not.toEqual([
        key,
        expect.stringMatching(/AccountKey|DefaultEndpointsProtocol|SharedAccessSignature/i),
      ]);
    }
  });

  test('when telemetry is sent, then Application Insights accepts only Entra ID tokens', () => {
    const monitoring = fileAt(files, 'infra/modules/monitoring.bicep');
    const component = monitoring.resources.find((r) => r.type === 'Microsoft.Insights/components');

    expect(prop(component?.body, 'properties.DisableLocalAuth')?.text).toBe('true');
    expect(appSettings().get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')?.text).toBe(
      "'ClientId=${identityClientId};Authorization=AAD'",
    );
  });
});

describe('the operator API is behind Entra ID', () => {
  function authSettings(): Value | undefined {
    return app.resources.find(
      (r) =>
        r.type === 'Microsoft.Web/sites/config' &&
        literalString(app, prop(r.body, 'name')) === 'authsettingsV2',
    )?.body;
  }

  test('when the app is deployed, then App Service authentication requires an Entra ID sign-in and answers 401 otherwise', () => {
    const auth = authSettings();

    expect(prop(auth, 'properties.platform.enabled')?.text).toBe('true');
    expect(prop(auth, 'properties.globalValidation.requireAuthentication')?.text).toBe('true');
    expect(literalString(app, prop(auth, 'properties.globalValidation.unauthenticatedClientAction'))).toBe(
      'Return401',
    );
    expect(prop(auth, 'properties.identityProviders.azureActiveDirectory.enabled')?.text).toBe('true');
    expect(prop(auth, 'properties.identityProviders.azureActiveDirectory.registration.clientId')?.text).toBe(
      'apiAuthClientId',
    );
  });

  test('when Event Grid delivers events, then only its webhook path is left to the system key', () => {
    const excluded = prop(authSettings(), 'properties.globalValidation.excludedPaths');

    expect(excluded?.kind === 'array' ? excluded.items.map((i) => literalString(app, i)) : excluded).toEqual([
      '/runtime/webhooks/eventgrid',
    ]);
  });

  test('when the app registration is needed, then its client id is a required parameter passed from main.bicep', () => {
    const module = main.modules.find((m) => m.source === 'modules/function-app.bicep');

    expect(main.params.get('apiAuthClientId')?.defaultValue).toBeUndefined();
    expect(prop(module?.body, 'params.apiAuthClientId')?.text).toBe('apiAuthClientId');
  });
});

describe('the operations console is not anonymous and queries as the signed-in user', () => {
  function authProperties(): Value | undefined {
    return prop(
      app.resources.find(
        (r) =>
          r.type === 'Microsoft.Web/sites/config' &&
          literalString(app, prop(r.body, 'name')) === 'authsettingsV2',
      )?.body,
      'properties',
    );
  }

  test('when the console or its SQL route is called, then authentication is required for it like every route', () => {
    const auth = authProperties();
    const excluded = literalStrings(app, prop(auth, 'globalValidation.excludedPaths')) ?? [];

    expect(prop(auth, 'globalValidation.requireAuthentication')?.text).toBe('true');
    expect(literalString(app, prop(auth, 'globalValidation.unauthenticatedClientAction'))).not.toBe(
      'AllowAnonymous',
    );
    for (const route of ['/api/console/', '/api/console/main.js', '/api/2.0/sql/statements']) {
      expect([route, excluded.filter((p) => route.startsWith(p.replace(/\*$/, '')))]).toEqual([route, []]);
    }
  });

  test('when an operator signs in, then the login asks for an Azure Databricks token and the token store keeps it', () => {
    const auth = authProperties();
    const loginParameters = prop(auth, 'identityProviders.azureActiveDirectory.login.loginParameters');
    const parameters =
      loginParameters?.kind === 'array' ? loginParameters.items.map((i) => expandString(app, i) ?? '') : [];

    expect(prop(auth, 'login.tokenStore.enabled')?.text).toBe('true');
    expect(
      parameters.filter((p) => p.startsWith('scope=') && p.split(/\s+/).includes(DATABRICKS_USER_SCOPE)),
    ).toHaveLength(1);
  });

  test('when Easy Auth redeems the sign-in code, then its credential is the managed identity, not a stored secret', () => {
    const setting = literalString(
      app,
      prop(authProperties(), 'identityProviders.azureActiveDirectory.registration.clientSecretSettingName'),
    );

    expect(setting).toBe('OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID');
    expect(appSettings().get(setting!)?.text).toBe('identityClientId');
  });

  test('when the console runs SQL, then the warehouse id comes from the azd environment through main.bicep', () => {
    const module = main.modules.find((m) => m.source === 'modules/function-app.bicep');
    const parameters = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'infra/main.parameters.json'), 'utf8'),
    ) as {
      parameters: Record<string, { value: string }>;
    };

    expect(appSettings().get('DATABRICKS_SQL_WAREHOUSE_ID')?.text).toBe('databricksSqlWarehouseId');
    expect(prop(module?.body, 'params.databricksSqlWarehouseId')?.text).toBe('consoleSqlWarehouseId');
    expect(parameters.parameters.consoleSqlWarehouseId?.value).toBe('${DATABRICKS_SQL_WAREHOUSE_ID=}');
    expect(appSettings().get('DATABRICKS_SQL_CATALOG')?.text).toBe('databricksSqlCatalog');
    expect(prop(module?.body, 'params.databricksSqlCatalog')?.text).toBe('lakewattCatalog');
  });
});
