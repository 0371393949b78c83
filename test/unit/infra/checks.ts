/**
 * The security checks the infra tests apply, as plain functions returning findings, so each test can also
 * prove that a check fails on a deliberately bad input.
 */
import type { BicepFile, ResourceDecl, Value } from './bicep';
import { allValues, prop, resolve } from './bicep';

/** Role name -> built-in role id: the only roles Lakewatt may assign (mirrors infra/modules/roles.bicep). */
export const ALLOWED_ROLES: Readonly<Record<string, string>> = {
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
};

/** Broad roles that must never appear anywhere in infra/, by id. */
export const FORBIDDEN_ROLES: Readonly<Record<string, string>> = {
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  'User Access Administrator': '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  'Role Based Access Control Administrator': 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Account Contributor': '17d1049b-9a84-46fb-8f53-869881c3d3ab',
  'Key Vault Administrator': '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  Reader: 'acdd72a7-3c48-4d8c-b02d-0d6f0e2dd2d0',
};

export interface RoleAssignment {
  file: string;
  symbol: string;
  /** Symbol of the resource the assignment is scoped to. */
  scopeSymbol: string;
  /** Type of that resource, e.g. Microsoft.Storage/storageAccounts/blobServices/containers. */
  scopeType: string;
  /** The resource's name expression (e.g. `'${bronzeAccountName}/default/bronze'`). */
  scopeName: string;
  principal: string;
  principalType: string;
  /** Key in ALLOWED_ROLES, or the raw id/expression when it is not an allowed role. */
  role: string;
  condition: Value | undefined;
}

/** Maps a role expression (`roleIds.x`, `roleDefinitionId(roleIds.x)`, a literal id) to its role id. */
function roleIdOf(value: Value | undefined, roleIds: ReadonlyMap<string, string>): string | undefined {
  if (!value) return undefined;
  if (value.kind === 'call' && value.fn === 'roleDefinitionId') return roleIdOf(value.args[0], roleIds);
  if (value.kind === 'call' && value.fn === 'subscriptionResourceId') return roleIdOf(value.args[1], roleIds);
  if (value.kind === 'member' && value.object.kind === 'ref' && value.object.name === 'roleIds') {
    return roleIds.get(value.property);
  }
  if (value.kind === 'string' && !value.interpolated) return value.value;
  return undefined;
}

function roleName(id: string | undefined, fallback: string): string {
  const entry = Object.entries(ALLOWED_ROLES).find(([, allowed]) => allowed === id);
  return entry ? entry[0] : (id ?? fallback);
}

/** The `roleIds` object exported by roles.bicep, as name -> id. */
export function roleIdsFrom(rolesFile: BicepFile): Map<string, string> {
  const map = new Map<string, string>();
  const roleIds = rolesFile.vars.get('roleIds');
  if (roleIds?.kind === 'object') {
    for (const [name, value] of roleIds.props) if (value.kind === 'string') map.set(name, value.value);
  }
  return map;
}

function describe(resource: ResourceDecl, file: BicepFile): string {
  return `${file.file} ${resource.symbol}`;
}

/**
 * Collects every role assignment with its scope, principal and role, and lists every rule it breaks:
 * a name that is not guid(scope.id, principal, role); a scope that is not a resource declared in the same
 * file (so never the subscription or resource group); a role outside ALLOWED_ROLES.
 */
export function inspectRoleAssignments(
  files: Iterable<BicepFile>,
  roleIds: ReadonlyMap<string, string>,
): { assignments: RoleAssignment[]; problems: string[] } {
  const assignments: RoleAssignment[] = [];
  const problems: string[] = [];
  for (const file of files) {
    for (const resource of file.resources) {
      if (resource.type !== 'Microsoft.Authorization/roleAssignments') continue;
      const where = describe(resource, file);
      if (file.targetScope !== 'resourceGroup') {
        problems.push(`${where}: role assignment in a ${file.targetScope}-scope file`);
      }
      const scope = prop(resource.body, 'scope');
      const scopeDecl =
        scope?.kind === 'ref' ? file.resources.find((r) => r.symbol === scope.name) : undefined;
      if (!scopeDecl) {
        problems.push(`${where}: scope ${scope?.text ?? '(none)'} is not a resource of this file`);
      }
      const roleValue = prop(resource.body, 'properties.roleDefinitionId');
      const roleId = roleIdOf(roleValue, roleIds);
      const principal = prop(resource.body, 'properties.principalId');
      const name = prop(resource.body, 'name');
      const guidArgs = name?.kind === 'call' && name.fn === 'guid' ? name.args : undefined;
      if (!guidArgs || guidArgs.length !== 3) {
        problems.push(`${where}: name ${name?.text ?? '(none)'} is not guid(scope, principal, role)`);
      } else {
        const [scopeArg, principalArg, roleArg] = guidArgs;
        if (scopeArg?.text !== `${scope?.text ?? '?'}.id`) {
          problems.push(`${where}: guid's first argument ${scopeArg?.text} is not ${scope?.text}.id`);
        }
        if (principalArg?.text !== principal?.text) {
          problems.push(`${where}: guid's principal ${principalArg?.text} is not ${principal?.text}`);
        }
        if (roleIdOf(roleArg, roleIds) !== roleId) {
          problems.push(`${where}: guid's role ${roleArg?.text} is not the assigned role`);
        }
      }
      if (!roleId || !Object.values(ALLOWED_ROLES).includes(roleId)) {
        problems.push(`${where}: role ${roleValue?.text ?? '(none)'} is not in the allow-list`);
      }
      const scopeName = scopeDecl ? prop(scopeDecl.body, 'name') : undefined;
      const principalType = resolve(file, prop(resource.body, 'properties.principalType'));
      assignments.push({
        file: file.file,
        symbol: resource.symbol,
        scopeSymbol: scopeDecl?.symbol ?? '',
        scopeType: scopeDecl?.type ?? '',
        scopeName: scopeName?.kind === 'string' ? scopeName.value : (scopeName?.text ?? ''),
        principal: principal?.text ?? '',
        principalType: principalType?.kind === 'string' ? principalType.value : (principalType?.text ?? ''),
        role: roleName(roleId, roleValue?.text ?? ''),
        condition: prop(resource.body, 'properties.condition'),
      });
    }
  }
  return { assignments, problems };
}

export interface SecretFinding {
  file: string;
  line: number;
  rule: string;
}

const SECRET_PATTERNS: Array<{ rule: string; pattern: RegExp }> = [
  { rule: 'storage account key in a connection string', pattern: /AccountKey\s*=/i },
  { rule: 'storage connection string', pattern: /DefaultEndpointsProtocol\s*=/i },
  { rule: 'SAS signature', pattern: /[?&]sig=[A-Za-z0-9%+/=]{16,}/ },
  { rule: 'SharedAccessSignature / SharedAccessKey', pattern: /SharedAccess(Signature|Key)\s*=/i },
  { rule: 'Application Insights instrumentation key literal', pattern: /InstrumentationKey=[0-9a-f-]{36}/i },
  { rule: 'Databricks personal access token', pattern: /\bdapi[0-9a-f]{32}\b/ },
  { rule: 'private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  {
    rule: 'password or secret literal',
    pattern: /\b(password|passwd|pwd|secret|clientSecret|client_secret)\b\s*[:=]\s*['"][^'"\s$]{6,}['"]/i,
  },
  { rule: 'Function key in a URL', pattern: /[?&]code=[A-Za-z0-9_\-=]{20,}/ },
];

/** A 40+ character run of base64 with digits and both letter cases: a key, not a word or a path. */
function looksLikeKey(token: string): boolean {
  return token.length >= 40 && /[0-9]/.test(token) && /[a-z]/.test(token) && /[A-Z]/.test(token);
}

/** Scans one text file for secret literals. */
export function scanForSecrets(text: string, file: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  text.split('\n').forEach((line, index) => {
    for (const { rule, pattern } of SECRET_PATTERNS) {
      if (pattern.test(line)) findings.push({ file, line: index + 1, rule });
    }
    for (const token of line.match(/[A-Za-z0-9+]{40,}={0,2}/g) ?? []) {
      if (looksLikeKey(token))
        findings.push({ file, line: index + 1, rule: 'high-entropy key-like literal' });
    }
  });
  return findings;
}

/**
 * Bicep-specific secret rules: a @secure() parameter has no non-empty default; no output is named like a
 * secret; listKeys() is only used for the Functions host keys (the Event Grid webhook), never on storage.
 */
export function bicepSecretProblems(file: BicepFile): string[] {
  const problems: string[] = [];
  for (const param of file.params.values()) {
    const secure = param.decorators.includes('secure');
    const def = param.defaultValue;
    if (secure && def && !(def.kind === 'string' && def.value === '') && def.kind !== 'object') {
      problems.push(`${file.file}: @secure() param ${param.name} has a default value`);
    }
    if (secure && def?.kind === 'object' && def.props.size > 0) {
      problems.push(`${file.file}: @secure() param ${param.name} has a default value`);
    }
    if (!secure && /(password|secret|token|key)$/i.test(param.name) && param.type === 'string') {
      problems.push(`${file.file}: param ${param.name} looks like a secret but is not @secure()`);
    }
  }
  for (const name of file.outputs.keys()) {
    if (/(password|secret|token|connectionstring|key)$/i.test(name.replace(/_/g, ''))) {
      problems.push(`${file.file}: output ${name} looks like a secret`);
    }
  }
  for (const value of allValues(file)) {
    if (value.kind !== 'call' || !/^list/i.test(value.fn)) continue;
    const target = value.args[0]?.text ?? '';
    if (value.fn !== 'listKeys' || !target.endsWith("/host/default'")) {
      problems.push(`${file.file}: ${value.fn}(${target}) is not the Functions host keys`);
    }
  }
  if (/\.listKeys\(|listAccountSas\(|listServiceSas\(/.test(file.source)) {
    problems.push(`${file.file}: reads storage keys or SAS tokens`);
  }
  return problems;
}
