import type { Command } from 'commander';

import { UsageError } from '../../lib/errors';
import {
  nextDeliveryDay,
  priceInstanceId,
  PULL_GIVE_UP_HOURS,
  PULL_ORCHESTRATION,
  PULL_RETRY_MINUTES,
  pullInput,
} from '../../lib/pipeline/prices';
import { decideEventStart } from '../../lib/pipeline/start';
import { PULL_PROVIDERS } from '../../lib/prices';
import type { PullResult } from '../../orchestrations/pullPrices';
import { waitForInstance } from '../drops';
import { hostKeyHeaders } from '../host/endpoint';
import { withRuntime } from './dev';

interface PullReport extends Partial<PullResult> {
  instanceId: string;
  started: boolean;
  reason?: string;
  runtimeStatus?: string;
  error?: string;
  ingestion?: { runtimeStatus: string; output: unknown };
}

interface PullOptions {
  date?: string;
  zone?: string[];
  provider?: string[];
  retryMinutes: string;
  giveUpHours: string;
  wait?: boolean;
  json?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim())];
}

const durable = (baseUrl: string): string => `${baseUrl}/runtime/webhooks/durabletask`;

export function registerPullPrices(program: Command): void {
  program
    .command('pull-prices')
    .description(
      'pull day-ahead prices now (what the pullPricesTimer function does): one pullPrices run per provider and zone; the landed file is then ingested like any drop',
    )
    .option('--date <yyyy-mm-dd>', 'delivery day (default: tomorrow, UTC)')
    .option('--zone <zone>', 'bidding zone (repeatable; default PRICES_ZONES)', collect)
    .option(
      '--provider <provider>',
      `${PULL_PROVIDERS.join(' or ')} (repeatable; default PRICES_PROVIDERS)`,
      collect,
    )
    .option('--retry-minutes <m>', 'wait between asks while not published', String(PULL_RETRY_MINUTES))
    .option(
      '--give-up-hours <h>',
      'fail when still not published after this long',
      String(PULL_GIVE_UP_HOURS),
    )
    .option('--wait', 'wait until each pull and the ingestion of what it landed end')
    .option('--json', 'print the results as JSON')
    .action(async (options: PullOptions) => {
      const deliveryDay = options.date ?? nextDeliveryDay(new Date());
      if (!/^\d{4}-\d{2}-\d{2}$/.test(deliveryDay))
        throw new UsageError(`--date ${deliveryDay} is not YYYY-MM-DD`);
      const retryMinutes = Number(options.retryMinutes);
      const giveUpHours = Number(options.giveUpHours);
      if (!(retryMinutes > 0)) throw new UsageError('--retry-minutes must be a positive number');
      if (!(giveUpHours > 0)) throw new UsageError('--give-up-hours must be a positive number');
      const results: PullReport[] = [];
      await withRuntime(async (runtime) => {
        const providers = options.provider ?? runtime.config.prices.providers;
        for (const provider of providers) {
          if (!(PULL_PROVIDERS as readonly string[]).includes(provider)) {
            throw new UsageError(`--provider ${provider}: expected ${PULL_PROVIDERS.join(' or ')}`);
          }
        }
        const zones = options.zone ?? runtime.config.prices.zones;
        const started: string[] = [];
        for (const provider of providers) {
          for (const zone of zones) {
            const instanceId = priceInstanceId(provider, zone, deliveryDay);
            const existing = await fetch(
              `${durable(runtime.baseUrl)}/instances/${instanceId}?showInput=true`,
              { headers: hostKeyHeaders(runtime) },
            );
            const body = existing.ok
              ? ((await existing.json()) as { runtimeStatus: string; input: unknown })
              : undefined;
            const decision = decideEventStart(body);
            if (decision.action === 'skip') {
              results.push({ instanceId, started: false, reason: decision.reason });
              continue;
            }
            const input = pullInput(
              { provider: provider as (typeof PULL_PROVIDERS)[number], zone, deliveryDay },
              new Date(),
              { retryMinutes, giveUpHours },
            );
            const response = await fetch(
              `${durable(runtime.baseUrl)}/orchestrators/${PULL_ORCHESTRATION}/${instanceId}`,
              {
                method: 'POST',
                headers: hostKeyHeaders(runtime, { 'content-type': 'application/json' }),
                body: JSON.stringify(input),
              },
            );
            if (!response.ok)
              throw new Error(`starting ${instanceId}: HTTP ${response.status} ${await response.text()}`);
            started.push(instanceId);
            results.push({ instanceId, started: true });
          }
        }
        if (!options.wait) return;
        for (const result of results) {
          const status = await waitForInstance(runtime, result.instanceId, (giveUpHours * 3600 + 60) * 1000);
          result.runtimeStatus = status.runtimeStatus;
          const output = status.runtimeStatus === 'Completed' ? (status.output as PullResult) : undefined;
          if (!output) {
            result.error = typeof status.output === 'string' ? status.output : JSON.stringify(status.output);
            process.exitCode = 1;
            continue;
          }
          Object.assign(result, output);
          // The landed file's event starts its ingestion (the landing watcher here, Event Grid in Azure).
          const ingestion = await waitForInstance(runtime, output.ingestInstanceId, 900_000);
          result.ingestion = { runtimeStatus: ingestion.runtimeStatus, output: ingestion.output };
          if (ingestion.runtimeStatus !== 'Completed') process.exitCode = 1;
        }
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
        return;
      }
      for (const result of results) {
        const parts = [
          result.instanceId,
          result.started ? 'started' : `not started (${result.reason ?? ''})`,
        ];
        if (result.runtimeStatus) parts.push(result.runtimeStatus);
        if (result.path) parts.push(`landed ${result.path}`);
        if (result.error) parts.push(result.error);
        process.stdout.write(`${parts.join('  ')}\n`);
      }
    });
}
