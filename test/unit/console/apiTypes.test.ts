import type * as Console from '../../../console/src/types';
import type { AuditRecord } from '../../../lib/audit';
import type { RunDetail, RunsPage, RunSummary } from '../../../lib/pipeline/runsList';
import type { RejectedRowsPage } from '../../../lib/pipeline/runsRejected';
import type { BulkReplayResult, StartedReply } from '../../../lib/pipeline/runsReplay';

/*
 * The console writes out the runs API's reply types instead of importing them (its bundle must not pull in
 * zod or node built-ins). These assignments make `tsc` (part of `make test`) fail when a reply of the API no
 * longer fits what the page reads; the test below only keeps jest from reporting an empty file.
 */
const fits = {
  summary: (reply: RunSummary): Console.RunSummary => reply,
  page: (reply: RunsPage): Console.RunsPage => reply,
  // GET runs/{id} adds the run's audit record to the detail (functions/runsApi.ts).
  detail: (reply: RunDetail & { audit: AuditRecord | null }): Console.RunDetail => reply,
  replayMany: (reply: BulkReplayResult): Console.BulkReplayResult => reply,
  started: (reply: StartedReply): Console.StartedReply => reply,
  rejected: (reply: RejectedRowsPage): Console.RejectedRowsPage => reply,
};

test('when the runs API replies, then each reply type fits the console page that reads it (checked by tsc)', () => {
  expect(Object.keys(fits)).toHaveLength(6);
});
