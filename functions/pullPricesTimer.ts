import type { InvocationContext, Timer } from '@azure/functions';
import * as df from 'durable-functions';

import { nextDeliveryDay, priceInstanceId, PULL_ORCHESTRATION, pullInput } from '../lib/pipeline/prices';
import { decideEventStart } from '../lib/pipeline/start';
import { services } from '../orchestrations/services';
import { findInstance } from '../orchestrations/starters';

/**
 * The scheduled day-ahead price pull: one `pullPrices` per configured provider and bidding zone for
 * tomorrow's delivery day. The instance id is deterministic, so a timer that fires twice pulls once, and
 * a failed pull of the day is started again by the next firing.
 */
df.app.client.timer('pullPricesTimer', {
  schedule: '%PRICES_SCHEDULE%',
  handler: async (timer: Timer, client: df.DurableClient, context: InvocationContext) => {
    const { config } = services();
    const now = new Date();
    const deliveryDay = nextDeliveryDay(now);
    for (const provider of config.prices.providers) {
      for (const zone of config.prices.zones) {
        const instanceId = priceInstanceId(provider, zone, deliveryDay);
        const existing = await findInstance(client, instanceId);
        const decision = decideEventStart(
          existing ? { runtimeStatus: String(existing.runtimeStatus), input: existing.input } : undefined,
        );
        if (decision.action === 'skip') {
          context.log(`pullPricesTimer: ${instanceId} not started (${decision.reason}: ${decision.detail})`);
          continue;
        }
        await client.startNew(PULL_ORCHESTRATION, {
          instanceId,
          input: pullInput({ provider, zone, deliveryDay }, now),
        });
        context.log(`pullPricesTimer: started ${instanceId}${timer.isPastDue ? ' (past due)' : ''}`);
      }
    }
  },
});
