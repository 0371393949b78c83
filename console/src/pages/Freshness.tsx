/*
 * FRESHNESS — placeholder (issue 17, "Source schedules"). Another change adds the runs API's freshness
 * endpoint (`GET /api/freshness`-style: per source the last file, its delay, and files expected but
 * missing, from the source contracts' declared schedules). When it exists, fetch it here with `call()` from
 * ../api (the console server already forwards `/api/freshness...` to the host) and render per source:
 * last file, delay, missing files. Nothing else in the console needs to change.
 */
export function FreshnessPage() {
  return (
    <>
      <h1>Freshness</h1>
      <p class="empty" data-testid="freshness-placeholder">
        Per source: the last file, its delay and the files expected but missing. This page fills in once the
        runs API serves freshness findings from the sources’ declared schedules.
      </p>
    </>
  );
}
