import { DATASET_NAMES } from '../contracts/datasets';
import { BIDDING_ZONES, PULL_PROVIDERS } from '../prices/zones';

/**
 * The exact shapes of the orchestration instance ids Lakewatt creates, so the operator API can refuse
 * anything else before it reaches the durable backend:
 * - `ingest-{dataset}-{32 hex}`: `ingestInstanceId` (lib/events/blobCreated.ts), one per file version;
 * - `prices-{provider}-{zone}-{yyyy-mm-dd}`: `priceInstanceId` (lib/pipeline/prices.ts), one per pull.
 */

export type RunKind = 'ingest' | 'pricePull';

const alternatives = (values: readonly string[]): string =>
  values.map((value) => value.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('|');

export const INGEST_INSTANCE_ID = new RegExp(`^ingest-(?:${alternatives(DATASET_NAMES)})-[0-9a-f]{32}$`);

export const PRICE_INSTANCE_ID = new RegExp(
  `^prices-(?:${alternatives(PULL_PROVIDERS)})-(?:${alternatives(BIDDING_ZONES.map((z) => z.zone))})-\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])$`,
);

/** Which kind of run an instance id names, or undefined when Lakewatt never creates such an id. */
export function runKindOfId(instanceId: string): RunKind | undefined {
  if (INGEST_INSTANCE_ID.test(instanceId)) return 'ingest';
  if (PRICE_INSTANCE_ID.test(instanceId)) return 'pricePull';
  return undefined;
}
