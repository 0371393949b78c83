import { AlreadyExistsError, type LakeStore, NotFoundError } from '../lake';
import { type AuditRecord, auditRecordSchema } from './record';

export const AUDIT_CONTAINER = 'audit';
export const AUDIT_RUNS_PREFIX = 'runs/';

/** `runs/{yyyy}/{mm}/{dd}/{instanceId}/{generation}.json`, dated by the generation's request time (UTC). */
export function auditRecordPath(instanceId: string, generation: number, requestedAt: string): string {
  const day = new Date(requestedAt);
  if (Number.isNaN(day.getTime())) throw new RangeError(`requestedAt ${requestedAt} is not a time`);
  const [yyyy, mm, dd] = day.toISOString().slice(0, 10).split('-');
  return `${AUDIT_RUNS_PREFIX}${yyyy}/${mm}/${dd}/${instanceId}/${generation}.json`;
}

export interface AuditWriteResult {
  path: string;
  /** False when a record for this instance and generation already existed (a retried write). */
  created: boolean;
}

/**
 * Writes the record create-only. A second write of the same instance and generation (a retried activity)
 * is a no-op that keeps the first record: the audit trail never holds two versions of one run.
 */
export async function writeAuditRecord(lake: LakeStore, record: AuditRecord): Promise<AuditWriteResult> {
  const checked = auditRecordSchema.parse(record);
  const path = auditRecordPath(checked.instanceId, checked.generation, checked.requestedAt);
  try {
    await lake.createOnly(AUDIT_CONTAINER, path, `${JSON.stringify(checked, null, 2)}\n`, {
      contentType: 'application/json',
    });
    return { path, created: true };
  } catch (error) {
    if (error instanceof AlreadyExistsError) return { path, created: false };
    throw error;
  }
}

/** The record of one generation, or undefined when none was written (yet). */
export async function readAuditRecord(
  lake: LakeStore,
  instanceId: string,
  generation: number,
  requestedAt: string,
): Promise<AuditRecord | undefined> {
  try {
    const object = await lake.read(AUDIT_CONTAINER, auditRecordPath(instanceId, generation, requestedAt));
    return auditRecordSchema.parse(JSON.parse(object.data.toString('utf8')));
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}
