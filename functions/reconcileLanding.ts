import type { InvocationContext, Timer } from '@azure/functions';
import * as df from 'durable-functions';

import { LANDING_PREFIX } from '../lib/events/blobCreated';
import { checkLandingBlob, recordMisplaced } from '../lib/pipeline/reconcile';
import { services } from '../orchestrations/services';
import { startIngestionIfUnknown } from '../orchestrations/starters';

/**
 * The landing reconciliation: lists `bronze/landing/` and starts every file version of the look-back window
 * that has no ingestion once its grace period passed (lost events, files landed before the subscription),
 * and records misplaced files (quarantine copy + audit record). Safe to run at any time and twice: starting
 * is by deterministic instance id, records are create-only.
 */
df.app.client.timer('reconcileLanding', {
  schedule: '%RECONCILE_SCHEDULE%',
  handler: async (_timer: Timer, client: df.DurableClient, context: InvocationContext) => {
    const { config, lake } = services();
    const now = new Date();
    const window = { now, ...config.reconcile };
    const counts = { listed: 0, started: 0, known: 0, misplaced: 0, skipped: 0 };
    for await (const blob of lake.list('bronze', LANDING_PREFIX)) {
      counts.listed += 1;
      const check = checkLandingBlob(blob, window);
      if (check.kind === 'skip') {
        counts.skipped += 1;
      } else if (check.kind === 'misplaced') {
        const written = await recordMisplaced(lake, {
          container: 'bronze',
          path: blob.path,
          etag: blob.etag,
          size: blob.size,
          reason: check.reason,
          detail: check.detail,
          seenBy: 'reconcile',
          seenAt: now,
        });
        counts.misplaced += 1;
        if (written.created)
          context.log(`reconcileLanding: misplaced ${blob.path} (${check.reason}): ${written.auditPath}`);
      } else {
        const result = await startIngestionIfUnknown(client, check.file, config, now);
        if (result.action === 'started') {
          counts.started += 1;
          context.log(
            `reconcileLanding: started ${result.instanceId} for ${blob.path}@${blob.etag} (no run)`,
          );
        } else counts.known += 1;
      }
    }
    context.log(`reconcileLanding: ${JSON.stringify(counts)}`);
  },
});
