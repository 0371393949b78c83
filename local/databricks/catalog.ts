import { ensureError } from '../../lib/errors';
import { ApiError, type Json } from './api';
import { type Bundle, type BundleJob, loadBundle, type LoadBundleOptions } from './bundle';
import type { JobRow, JobsStore } from './store';

export interface CatalogEntry {
  row: JobRow;
  job: BundleJob;
}

/**
 * The jobs the emulator serves: the Asset Bundle's jobs, each with its job id from the store. The bundle
 * is read again on jobs/list and run-now, so edits show without a restart.
 */
export class JobCatalog {
  private jobsById = new Map<number, CatalogEntry>();
  private current: Bundle;

  constructor(
    private readonly bundleDir: string,
    private readonly bundleOptions: LoadBundleOptions,
    private readonly store: JobsStore,
    private readonly log: (line: string) => void,
  ) {
    this.current = loadBundle(bundleDir, bundleOptions);
    this.syncJobs();
  }

  get bundle(): Bundle {
    return this.current;
  }

  entries(): CatalogEntry[] {
    return [...this.jobsById.values()];
  }

  private syncJobs(): void {
    const byId = new Map<number, CatalogEntry>();
    for (const job of this.current.jobs) {
      const row = this.store.upsertJob(job.key, job.name, Date.now());
      byId.set(row.job_id, { row, job });
    }
    this.jobsById = byId;
  }

  /** Re-reads the bundle so edits show without a restart; a broken edit keeps the last good bundle. */
  reload(): void {
    try {
      this.current = loadBundle(this.bundleDir, this.bundleOptions);
      this.syncJobs();
    } catch (thrown) {
      this.log(`bundle reload failed, keeping the previous definitions: ${ensureError(thrown).message}`);
    }
  }

  jobOf(jobId: number): BundleJob | undefined {
    return this.jobsById.get(jobId)?.job;
  }

  jobJson(jobId: number): Json {
    const entry = this.jobsById.get(jobId);
    if (!entry) throw new ApiError(400, 'RESOURCE_DOES_NOT_EXIST', `Job ${jobId} does not exist.`);
    return {
      job_id: jobId,
      created_time: entry.row.created_time,
      creator_user_name: 'lakewatt-local',
      settings: {
        ...entry.job.settings,
        name: entry.job.name,
        max_concurrent_runs: entry.job.maxConcurrentRuns,
        format: 'MULTI_TASK',
      },
    };
  }

  list(query: URLSearchParams): Json {
    this.reload();
    const name = query.get('name')?.toLowerCase();
    const limit = Math.min(100, Number(query.get('limit') ?? 20) || 20);
    const offset = Number(query.get('offset') ?? 0) || 0;
    const all = [...this.jobsById.values()]
      .filter((e) => name === undefined || e.job.name.toLowerCase() === name)
      .sort((a, b) => a.row.job_id - b.row.job_id)
      .map((e) => this.jobJson(e.row.job_id));
    const page = all.slice(offset, offset + limit);
    return { jobs: page, has_more: offset + limit < all.length };
  }
}
