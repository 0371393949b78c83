import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { decideBlobCreated } from '../lib/events/blobCreated';
import { checkCurrentVersion } from '../lib/pipeline/currentVersion';
import { ingestFileOf } from '../lib/pipeline/ingest';
import { isMisplacedReason, recordMisplaced } from '../lib/pipeline/reconcile';
import { services } from '../orchestrations/services';
import { startIngestionForEvent } from '../orchestrations/starters';

/**
 * Event Grid → ingestFile. Every event is either started, skipped (a duplicate or stale delivery) or
 * ignored (not a finished landing file), and each outcome is logged with its reason. Returning normally
 * acknowledges the event; throwing makes Event Grid retry it.
 */
df.app.client.eventGrid('bronzeBlobCreated', {
  handler: async (event: unknown, client: df.DurableClient, context: InvocationContext) => {
    const decision = decideBlobCreated(event);
    if (decision.kind === 'ignore') {
      context.log(`bronzeBlobCreated: ignored ${decision.reason}: ${decision.detail}`);
      if (decision.blob && isMisplacedReason(decision.reason)) {
        const written = await recordMisplaced(services().lake, {
          ...decision.blob,
          reason: decision.reason,
          detail: decision.detail,
          seenBy: 'event',
          seenAt: new Date(),
        });
        context.log(`bronzeBlobCreated: misplaced file recorded at ${written.auditPath}`);
      }
      return;
    }
    const { file } = decision;
    const { config, lake } = services();
    const version = await checkCurrentVersion(lake, file);
    if (!version.current) {
      context.log(
        `bronzeBlobCreated: ignored ${version.reason} (sequencer ${file.sequencer}): ${version.detail}`,
      );
      return;
    }
    const result = await startIngestionForEvent(client, ingestFileOf(file), config, new Date());
    if (result.action === 'started') {
      context.log(
        `bronzeBlobCreated: started ${result.instanceId} generation ${result.generation} for ${file.container}/${file.path}@${file.etag}`,
      );
    } else {
      const why = result.action === 'skipped' ? `${result.reason}: ${result.detail}` : result.message;
      context.log(`bronzeBlobCreated: no new run for ${file.path}@${file.etag} (${why})`);
    }
  },
});
