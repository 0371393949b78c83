import { z } from 'zod';

import { AlreadyExistsError, type LakeStore } from '../lake';
import { fetchDayAhead, type FetchDayAheadOptions, landingPathForPrices, PULL_PROVIDERS } from '../prices';

/**
 * The day-ahead price pull: its input, its instance id and the one side effect of the `pullPrices`
 * orchestration (fetch, then land the answer in bronze create-only). The landed file then flows through
 * `ingestFile` like any other drop, started by its BlobCreated event.
 */

export const PULL_ORCHESTRATION = 'pullPrices';

export const pullInputSchema = z.object({
  provider: z.enum(PULL_PROVIDERS as ['entsoe', 'energy-charts']),
  zone: z.string().min(1),
  deliveryDay: z.iso.date(),
  requestedAt: z.iso.datetime(),
  /** Wait between two asks while the provider has not published. */
  retryMinutes: z.number().positive(),
  /** After this time (UTC) a still unpublished day fails the pull. */
  giveUpAt: z.iso.datetime(),
});
export type PullInput = z.infer<typeof pullInputSchema>;

/** One pull per provider, zone and delivery day: a timer that fires twice starts it once. */
export function priceInstanceId(provider: string, zone: string, deliveryDay: string): string {
  return `prices-${provider}-${zone}-${deliveryDay}`;
}

/** The delivery day a pull at `now` asks for: tomorrow (UTC date + 1), the day the auction just priced. */
export function nextDeliveryDay(now: Date): string {
  const tomorrow = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  return tomorrow.toISOString().slice(0, 10);
}

export const PULL_RETRY_MINUTES = 15;
export const PULL_GIVE_UP_HOURS = 10;

export function pullInput(
  request: Pick<PullInput, 'provider' | 'zone' | 'deliveryDay'>,
  now: Date,
  timing: { retryMinutes?: number; giveUpHours?: number } = {},
): PullInput {
  const giveUpHours = timing.giveUpHours ?? PULL_GIVE_UP_HOURS;
  return {
    ...request,
    requestedAt: now.toISOString(),
    retryMinutes: timing.retryMinutes ?? PULL_RETRY_MINUTES,
    giveUpAt: new Date(now.getTime() + giveUpHours * 3_600_000).toISOString(),
  };
}

export type PullAttempt =
  | { kind: 'not-published'; detail: string }
  | { kind: 'landed'; path: string; etag: string; created: boolean };

/**
 * Asks the provider once; when the prices are out, writes the answer to
 * `bronze/landing/prices/{source}/{yyyy}/{mm}/{dd}/{zone}_{day}.{ext}` create-only. A retry after the
 * file was landed keeps the first file (bronze is never modified) and reports its eTag.
 */
export async function pullOnce(
  lake: LakeStore,
  request: Pick<PullInput, 'provider' | 'zone' | 'deliveryDay'>,
  options: FetchDayAheadOptions,
): Promise<PullAttempt> {
  const result = await fetchDayAhead(request, options);
  if (result.kind === 'not-published') return result;
  const path = landingPathForPrices(result, request.deliveryDay);
  try {
    const written = await lake.createOnly('bronze', path, result.body, { contentType: result.contentType });
    return { kind: 'landed', path, etag: written.etag, created: true };
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    const existing = await lake.properties('bronze', path);
    return { kind: 'landed', path, etag: existing.etag, created: false };
  }
}
