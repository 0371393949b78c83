import { app, type InvocationContext, type Timer } from '@azure/functions';

import { formatFreshnessBreach, freshnessBreachLog } from '../lib/freshness/breach';
import { runFreshnessCheck } from '../lib/freshness/check';
import { emitEvent } from '../lib/telemetry';
import { services } from '../orchestrations/services';

/**
 * The freshness check (docs/operations.md "Late and missing files"): judges every source contract with a
 * schedule, records each missing or late data date create-only in the audit container, and emits one
 * `FreshnessBreach` event (and log line) per finding it records for the first time: the freshness alert
 * fires on it. Safe to run at any time and twice: a finding already recorded is neither written nor logged
 * again.
 */
export async function freshnessCheck(timer: Timer, context: InvocationContext): Promise<void> {
  const { config, lake } = services();
  const result = await runFreshnessCheck({
    lake,
    contracts: await services().contracts(),
    now: new Date(),
    lookbackDays: config.freshness.lookbackDays,
  });
  for (const finding of result.created) {
    const breach = freshnessBreachLog(finding);
    // The event is what the freshness alert queries (customEvents); the log line keeps it in the function log.
    emitEvent(
      'FreshnessBreach',
      {
        source: breach.source,
        dataset: breach.dataset,
        date: breach.date,
        kind: breach.kind,
        delay_minutes: breach.delay_minutes,
      },
      { severity: 'warn' },
    );
    context.warn(formatFreshnessBreach(breach));
  }
  const summary = {
    sources: result.sources.length,
    recorded: result.created.length,
    known: result.known,
    pastDue: timer.isPastDue,
  };
  context.log(`freshnessCheck: ${JSON.stringify(summary)}`);
}

app.timer('freshnessCheck', { schedule: '%FRESHNESS_SCHEDULE%', handler: freshnessCheck });
