import { z } from 'zod';

import { AUDIT_CONTAINER } from '../audit/store';
import { LakewattError } from '../errors';
import { AlreadyExistsError, type LakeStore } from '../lake';
import { type FreshnessFinding, freshnessFindingSchema } from './finding';
import { addDays } from './periods';

/**
 * Freshness findings in the audit container, one immutable JSON document each at
 * `audit/freshness/{dataset}/{source}/{yyyy}/{mm}/{dd}/{kind}.json` (the date is the data date). The path
 * depends only on what the finding id hashes, so a check that sees the same breach again writes nothing:
 * the first record, with its detection time, stays. Run audit records live under `runs/`, misplaced files
 * under `misplaced/`; readers of those prefixes never see these.
 */

export const AUDIT_FRESHNESS_PREFIX = 'freshness/';
export const FRESHNESS_RECORD_VERSION = 1;

export const freshnessRecordSchema = z.object({
  schemaVersion: z.literal(FRESHNESS_RECORD_VERSION),
  type: z.literal('freshness_finding'),
  finding: freshnessFindingSchema,
});

export class FreshnessRecordError extends LakewattError {
  constructor(path: string, detail: string) {
    super('FRESHNESS_RECORD_INVALID', `audit/${path} is not a freshness finding record: ${detail}`);
  }
}

function sourcePrefix(dataset: string, source: string): string {
  return `${AUDIT_FRESHNESS_PREFIX}${dataset}/${source}/`;
}

export function findingPath(finding: Pick<FreshnessFinding, 'dataset' | 'source' | 'date' | 'kind'>): string {
  const [yyyy, mm, dd] = finding.date.split('-');
  return `${sourcePrefix(finding.dataset, finding.source)}${yyyy}/${mm}/${dd}/${finding.kind}.json`;
}

/** Writes a finding create-only; `created` is false when the same finding was recorded before. */
export async function writeFinding(
  lake: LakeStore,
  finding: FreshnessFinding,
): Promise<{ path: string; created: boolean }> {
  const record = freshnessRecordSchema.parse({
    schemaVersion: FRESHNESS_RECORD_VERSION,
    type: 'freshness_finding',
    finding,
  });
  const path = findingPath(finding);
  try {
    await lake.createOnly(AUDIT_CONTAINER, path, `${JSON.stringify(record, null, 2)}\n`, {
      contentType: 'application/json',
    });
    return { path, created: true };
  } catch (error) {
    if (error instanceof AlreadyExistsError) return { path, created: false };
    throw error;
  }
}

/** `YYYY/MM/` of every month from `from` to `to` (dates), in order. */
export function monthFolders(from: string, to: string): string[] {
  const months: string[] = [];
  for (let month = `${from.slice(0, 7)}-01`; month <= to; month = addDays(month, 32).slice(0, 8) + '01') {
    months.push(`${month.slice(0, 4)}/${month.slice(5, 7)}/`);
  }
  return months;
}

/** The recorded findings of one source with data dates from `from` to `to`, ordered by date and kind. */
export async function readFindings(
  lake: LakeStore,
  dataset: string,
  source: string,
  from: string,
  to: string,
): Promise<FreshnessFinding[]> {
  const findings: FreshnessFinding[] = [];
  for (const month of monthFolders(from, to)) {
    for await (const entry of lake.list(AUDIT_CONTAINER, `${sourcePrefix(dataset, source)}${month}`)) {
      const object = await lake.read(AUDIT_CONTAINER, entry.path);
      let document: unknown;
      try {
        document = JSON.parse(object.data.toString('utf8'));
      } catch (error) {
        throw new FreshnessRecordError(entry.path, `not JSON (${(error as Error).message})`);
      }
      const parsed = freshnessRecordSchema.safeParse(document);
      if (!parsed.success) throw new FreshnessRecordError(entry.path, parsed.error.issues[0]?.message ?? '');
      const { finding } = parsed.data;
      if (finding.date >= from && finding.date <= to) findings.push(finding);
    }
  }
  return findings.sort((a, b) => a.date.localeCompare(b.date) || a.kind.localeCompare(b.kind));
}
