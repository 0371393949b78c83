import type { DatasetName } from '../contracts/datasets';
import type { SourceSchedule } from '../contracts/schedule';
import type { SourceContractRegistry } from '../contracts/sources';
import { LANDING_PREFIX, landingPlace } from '../events/blobCreated';
import type { LakeStore } from '../lake';
import { evaluateFreshness, type LandedFile, type SourceFreshness } from './evaluate';
import type { FreshnessFinding } from './finding';
import { addDays, checkWindow, localDateAt } from './periods';
import { monthFolders, writeFinding } from './store';

/**
 * The freshness check the `freshnessCheck` timer runs (docs/operations.md "Late and missing files"): for
 * every source contract with a schedule, list its landing folders, judge its data dates (evaluate.ts) and
 * record each finding create-only in the audit container. Running it twice records nothing new.
 */

const BRONZE = 'bronze';

/**
 * Landing folders are named by the day a file lands (or, with `data_date: landing_folder`, its data date),
 * so a data date's files sit in folders from a little before its delivery day (early files, day-ahead
 * prices) up to today; a week past today covers sources that file under a future delivery day.
 */
const EARLY_FOLDER_DAYS = 2;
const FUTURE_FOLDER_DAYS = 7;

/** Files of one source whose landing folder is a day from `from` to `to` (whole months are listed). */
export async function listLandedFiles(
  lake: LakeStore,
  dataset: DatasetName,
  source: string,
  from: string,
  to: string,
): Promise<LandedFile[]> {
  const files: LandedFile[] = [];
  for (const month of monthFolders(from, to)) {
    for await (const entry of lake.list(BRONZE, `${LANDING_PREFIX}${dataset}/${source}/${month}`)) {
      const place = landingPlace(BRONZE, entry.path, BRONZE);
      if (place.kind !== 'landing' || place.landingDate < from || place.landingDate > to) continue;
      files.push({
        path: entry.path,
        fileName: place.fileName,
        landingDate: place.landingDate,
        landedAt: entry.lastModified,
      });
    }
  }
  return files;
}

/** The folder days to list so that every file of the data dates from `firstDate` on is seen at `now`. */
export function landingFoldersFor(
  schedule: SourceSchedule,
  firstDate: string,
  now: Date,
): { from: string; to: string } {
  return {
    from: addDays(firstDate, Math.min(schedule.lag_days, 0) - EARLY_FOLDER_DAYS),
    to: addDays(localDateAt('UTC', now.getTime()), FUTURE_FOLDER_DAYS),
  };
}

export interface ScheduledSource {
  dataset: DatasetName;
  source: string;
  schedule: SourceSchedule;
}

/** The contracts that declare a schedule, in a stable order. */
export function scheduledSources(
  contracts: SourceContractRegistry,
  filter: { dataset?: DatasetName; source?: string } = {},
): ScheduledSource[] {
  const scheduled: ScheduledSource[] = [];
  for (const contract of contracts.list(filter.dataset)) {
    if (!contract.schedule || (filter.source !== undefined && contract.source !== filter.source)) continue;
    scheduled.push({ dataset: contract.dataset, source: contract.source, schedule: contract.schedule });
  }
  return scheduled.sort((a, b) => `${a.dataset}/${a.source}`.localeCompare(`${b.dataset}/${b.source}`));
}

export interface FreshnessCheckOptions {
  lake: LakeStore;
  contracts: SourceContractRegistry;
  now: Date;
  /** How many delivery days back the check looks (FRESHNESS_LOOKBACK_DAYS). */
  lookbackDays: number;
}

export interface FreshnessCheckResult {
  sources: SourceFreshness[];
  /** Findings this run recorded for the first time: one alert each. */
  created: FreshnessFinding[];
  /** Findings an earlier run had recorded already. */
  known: number;
}

export async function runFreshnessCheck(options: FreshnessCheckOptions): Promise<FreshnessCheckResult> {
  const { lake, now, lookbackDays } = options;
  const result: FreshnessCheckResult = { sources: [], created: [], known: 0 };
  for (const { dataset, source, schedule } of scheduledSources(options.contracts)) {
    const window = checkWindow(schedule, now.getTime(), lookbackDays);
    if (window.from > window.to) {
      result.sources.push({ dataset, source, window, lastFile: null, findings: [], undatedFiles: 0 });
      continue;
    }
    const folders = landingFoldersFor(schedule, window.from, now);
    const files = await listLandedFiles(lake, dataset, source, folders.from, folders.to);
    const judged = evaluateFreshness({ dataset, source, schedule, files, now, lookbackDays });
    result.sources.push(judged);
    for (const finding of judged.findings) {
      const written = await writeFinding(lake, finding);
      if (written.created) result.created.push(finding);
      else result.known += 1;
    }
  }
  return result;
}
