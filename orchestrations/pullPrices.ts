import * as df from 'durable-functions';

import { ensureError, LakewattError } from '../lib/errors';
import { ingestInstanceId } from '../lib/events/blobCreated';
import { PULL_ORCHESTRATION, type PullAttempt, pullInputSchema, pullOnce } from '../lib/pipeline/prices';
import { isTransientPriceError } from '../lib/prices';
import { services } from './services';

/**
 * pullPrices: asks a provider for one zone's day-ahead prices until they are published (waiting on
 * durable timers between asks) or the give-up time passes, then lands the answer in bronze. Its
 * BlobCreated event starts the file's `ingestFile`; the output names that instance so it can be followed.
 */

export const pullPricesActivity = df.app.activity('pullPricesOnce', {
  handler: async (input: unknown): Promise<PullAttempt> => {
    const request = pullInputSchema.parse(input);
    const { lake, config } = services();
    try {
      return await pullOnce(lake, request, {
        entsoeBaseUrl: config.prices.entsoeBaseUrl,
        entsoeToken: config.prices.entsoeToken,
        energyChartsBaseUrl: config.prices.energyChartsBaseUrl,
      });
    } catch (error) {
      const failure = ensureError(error);
      const code = failure instanceof LakewattError ? failure.code : failure.name;
      // The marker tells the orchestrator whether another attempt can help.
      const kind = isTransientPriceError(failure) ? 'transient' : 'permanent';
      throw new Error(`[${code}] (${kind}) ${failure.message}`);
    }
  },
});

export interface PullResult {
  path: string;
  etag: string;
  ingestInstanceId: string;
  asks: number;
}

/** A transient provider failure (throttling, 5xx, network) is retried at the next ask, like "not yet". */
function isTransient(error: unknown): boolean {
  return error instanceof Error && error.message.includes('(transient)');
}

export const pullPrices = df.app.orchestration(PULL_ORCHESTRATION, function* (context) {
  const input = pullInputSchema.parse(context.df.getInput());
  const giveUpAt = Date.parse(input.giveUpAt);
  let last = 'no answer yet';
  for (let asks = 1; ; asks++) {
    context.df.setCustomStatus({ stage: 'asking', asks, last });
    let attempt: PullAttempt | undefined;
    try {
      attempt = (yield pullPricesActivity(input)) as PullAttempt;
    } catch (error) {
      if (!isTransient(error)) throw error;
      last = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    }
    if (attempt?.kind === 'landed') {
      const result: PullResult = {
        path: `bronze/${attempt.path}`,
        etag: attempt.etag,
        ingestInstanceId: ingestInstanceId({
          container: 'bronze',
          path: attempt.path,
          etag: attempt.etag,
          dataset: 'prices',
        }),
        asks,
      };
      context.df.setCustomStatus({ stage: 'landed', asks, path: result.path });
      return result;
    }
    if (attempt) last = attempt.detail;
    const wakeAt = context.df.currentUtcDateTime.getTime() + input.retryMinutes * 60_000;
    if (wakeAt > giveUpAt) {
      throw new Error(
        `[PRICES_NOT_PUBLISHED] ${input.provider} ${input.zone} ${input.deliveryDay}: not published by ${input.giveUpAt} after ${asks} asks (${last})`,
      );
    }
    context.df.setCustomStatus({ stage: 'waiting', asks, last, nextAskAt: new Date(wakeAt).toISOString() });
    yield context.df.createTimer(new Date(wakeAt));
  }
});
