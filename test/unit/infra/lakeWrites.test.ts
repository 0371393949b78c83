/**
 * Every write to the lake that lib/ makes, mapped to the Bicep grant that allows it in Azure. Locally every
 * write succeeds (one folder per container), so a write without a grant would first fail in Azure with 403.
 * The table below names each write site with the container and path prefix it writes; the first test makes
 * sure it lists every write call in lib/ (a new write without a row fails), the others that a role assignment
 * in lake-access.bicep (and its ABAC condition) lets the writing identity do it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { PULL_PROVIDERS } from '../../../lib/prices';
import { type BicepFile, expandString, fileAt, loadInfra, REPO_ROOT } from './bicep';
import { inspectRoleAssignments, type RoleAssignment, roleIdsFrom } from './checks';

type Operation = 'write' | 'delete';

interface WriteSite {
  /** File under lib/, the LakeStore method, and how many such calls the file makes. */
  file: string;
  method: 'createOnly' | 'overwrite' | 'copy' | 'move' | 'delete' | 'setMetadata' | 'ensureContainer';
  calls: number;
  /** Which identity runs this code in Azure: the Function App's (all of lib/ runs in the Function). */
  principal: 'functionPrincipalId';
  operation: Operation;
  /** Every container and path (an example of the real shape) the calls write. */
  targets: Array<{ container: string; path: string }>;
}

const INSTANCE = 'ingest-meter_readings-0123456789abcdef0123456789abcdef';

const WRITE_SITES: readonly WriteSite[] = [
  {
    file: 'lib/audit/store.ts',
    method: 'createOnly',
    calls: 1,
    principal: 'functionPrincipalId',
    operation: 'write',
    targets: [{ container: 'audit', path: `runs/2026/01/02/${INSTANCE}/0.json` }],
  },
  {
    file: 'lib/freshness/store.ts',
    method: 'createOnly',
    calls: 1,
    principal: 'functionPrincipalId',
    operation: 'write',
    targets: [{ container: 'audit', path: 'freshness/meter_readings/headend_utc/2026/01/02/missing.json' }],
  },
  {
    file: 'lib/pipeline/prices.ts',
    method: 'createOnly',
    calls: 1,
    principal: 'functionPrincipalId',
    operation: 'write',
    targets: PULL_PROVIDERS.map((provider) => ({
      container: 'bronze',
      path: `landing/prices/${provider}/2026/01/02/NL_2026-01-02.json`,
    })),
  },
  {
    file: 'lib/pipeline/reconcile.ts',
    method: 'copy',
    calls: 1,
    principal: 'functionPrincipalId',
    operation: 'write',
    targets: [{ container: 'quarantine', path: `misplaced/${'a'.repeat(32)}/readings.csv` }],
  },
  {
    file: 'lib/pipeline/reconcile.ts',
    method: 'createOnly',
    calls: 1,
    principal: 'functionPrincipalId',
    operation: 'write',
    targets: [{ container: 'audit', path: `misplaced/${'a'.repeat(32)}.json` }],
  },
  {
    file: 'lib/pipeline/steps.ts',
    method: 'copy',
    calls: 1,
    principal: 'functionPrincipalId',
    operation: 'write',
    targets: [{ container: 'quarantine', path: `meter_readings/${INSTANCE}/readings.csv` }],
  },
  {
    file: 'lib/validation/stage.ts',
    method: 'createOnly',
    calls: 2,
    principal: 'functionPrincipalId',
    operation: 'write',
    targets: [
      { container: 'staging', path: `meter_readings/${INSTANCE}/part-00000.parquet` },
      { container: 'staging', path: `meter_readings/${INSTANCE}/_report.json` },
      { container: 'quarantine', path: `meter_readings/${INSTANCE}/rejected.ndjson` },
      { container: 'quarantine', path: `meter_readings/${INSTANCE}/_report.json` },
    ],
  },
  {
    file: 'lib/validation/stage.ts',
    method: 'copy',
    calls: 1,
    principal: 'functionPrincipalId',
    operation: 'write',
    targets: [{ container: 'quarantine', path: `meter_readings/${INSTANCE}/original.bin` }],
  },
  {
    file: 'lib/validation/stage.ts',
    method: 'delete',
    calls: 1,
    principal: 'functionPrincipalId',
    operation: 'delete',
    targets: [
      { container: 'staging', path: `meter_readings/${INSTANCE}/part-00000.parquet` },
      { container: 'quarantine', path: `meter_readings/${INSTANCE}/rejected.ndjson` },
    ],
  },
];

/** LakeStore methods only the lake has (any receiver), and methods other types share (receiver named *lake*). */
const LAKE_ONLY = /\.(createOnly|overwrite|setMetadata|ensureContainer|move)\(/g;
const SHARED = /\b(\w*lake\w*)\.(copy|delete)\(/gi;

function libFiles(dir = path.join(REPO_ROOT, 'lib')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return libFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** `file method` -> number of calls, for every lake write call in lib/ outside the LakeStore implementations. */
function writeCallsInLib(): Map<string, number> {
  const calls = new Map<string, number>();
  for (const full of libFiles()) {
    const file = path.relative(REPO_ROOT, full).split(path.sep).join('/');
    if (file.startsWith('lib/lake/')) continue;
    const text = readFileSync(full, 'utf8');
    const methods = [
      ...[...text.matchAll(LAKE_ONLY)].map((m) => m[1]!),
      ...[...text.matchAll(SHARED)].map((m) => m[2]!),
    ];
    for (const method of methods) calls.set(`${file} ${method}`, (calls.get(`${file} ${method}`) ?? 0) + 1);
  }
  return calls;
}

const ACTION = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs';

/**
 * Whether an ABAC condition of the shapes lake-access.bicep uses lets `operation` happen at `blobPath`: no
 * condition allows everything; a denied action is denied; a write limited by path prefixes is allowed only
 * under one of them.
 */
export function conditionAllows(
  condition: string | undefined,
  operation: Operation,
  blobPath: string,
): boolean {
  if (condition === undefined) return true;
  if (operation === 'delete') return !condition.includes(`!(ActionMatches{'${ACTION}/delete'})`);
  if (!condition.includes(`!(ActionMatches{'${ACTION}/write'})`)) return true;
  const prefixes = [...condition.matchAll(/StringStartsWith '([^']*)'/g)].map((m) => m[1]!);
  return prefixes.some((prefix) => blobPath.startsWith(prefix));
}

let lakeAccess: BicepFile;
let assignments: RoleAssignment[];

beforeAll(async () => {
  const files = await loadInfra();
  lakeAccess = fileAt(files, 'infra/modules/lake-access.bicep');
  const roleIds = roleIdsFrom(fileAt(files, 'infra/modules/roles.bicep'));
  ({ assignments } = inspectRoleAssignments([lakeAccess], roleIds));
});

/** The grants that let `principal` do `operation` at container/path (Contributor, condition permitting). */
function grantsFor(principal: string, operation: Operation, container: string, blobPath: string): string[] {
  return assignments
    .filter(
      (a) =>
        a.principal === principal &&
        a.role === 'storageBlobDataContributor' &&
        a.scopeName.split('/').at(-1) === container &&
        conditionAllows(expandString(lakeAccess, a.condition), operation, blobPath),
    )
    .map((a) => a.symbol);
}

describe('every lake write in lib/ has a grant in Azure', () => {
  test('when lib/ is scanned for lake writes, then the table lists exactly the calls it finds', () => {
    const listed = new Map(WRITE_SITES.map((site) => [`${site.file} ${site.method}`, site.calls]));

    expect(Object.fromEntries(writeCallsInLib())).toEqual(Object.fromEntries(listed));
  });

  test.each(
    WRITE_SITES.flatMap((site) =>
      site.targets.map((target) => [site.file, site.method, target.container, target.path, site] as const),
    ),
  )(
    'when %s %s writes %s/%s, then a role assignment allows it',
    (_file, _method, container, blobPath, site) => {
      expect(grantsFor(site.principal, site.operation, container, blobPath)).not.toEqual([]);
    },
  );

  test('when the price pull lands a file, then only the pull providers’ folders are writable, not other sources', () => {
    expect(
      grantsFor('functionPrincipalId', 'write', 'bronze', 'landing/prices/nordpool/2026/01/02/x.json'),
    ).toEqual([]);
    expect(
      grantsFor('functionPrincipalId', 'write', 'bronze', 'landing/meter_readings/headend_utc/x.csv'),
    ).toEqual([]);
    expect(
      grantsFor('functionPrincipalId', 'delete', 'bronze', 'landing/prices/entsoe/2026/01/02/x.xml'),
    ).toEqual([]);
  });

  test('when the Function writes audit, then it may create under its own prefixes only and delete nothing', () => {
    expect(grantsFor('functionPrincipalId', 'write', 'audit', 'job-runs/x/0/silver.json')).toEqual([]);
    expect(grantsFor('functionPrincipalId', 'delete', 'audit', 'runs/2026/01/02/x/0.json')).toEqual([]);
  });
});

describe('the condition reader itself', () => {
  test('when a condition limits writes to a prefix, then writes elsewhere and denied deletes are refused', () => {
    const condition = `((!(ActionMatches{'${ACTION}/delete'}))) AND ((!(ActionMatches{'${ACTION}/write'})) OR (@Resource[${ACTION}:path] StringStartsWith 'runs/'))`;

    expect([
      conditionAllows(condition, 'write', 'runs/a.json'),
      conditionAllows(condition, 'write', 'other/a.json'),
      conditionAllows(condition, 'delete', 'runs/a.json'),
      conditionAllows(undefined, 'delete', 'x'),
    ]).toEqual([true, false, false, true]);
  });
});
