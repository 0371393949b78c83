import type { FreshnessFinding } from './finding';

/**
 * What the check says about a new freshness finding, once per finding it records for the first time (a re-run
 * says nothing). The timer emits its dimensions as the telemetry event `FreshnessBreach` (lib/telemetry, the
 * alert's source) and writes the whole of it to the function log as one JSON object whose first key is
 * `event`, so the line can be found by its start and parsed (`traces | where message startswith
 * '{"event":"FreshnessBreach"' | extend d = parse_json(message)`).
 */

export const FRESHNESS_BREACH_EVENT = 'FreshnessBreach';

export interface FreshnessBreachLog {
  event: typeof FRESHNESS_BREACH_EVENT;
  source: string;
  dataset: string;
  /** The data date. */
  date: string;
  kind: FreshnessFinding['kind'];
  delay_minutes: number;
  finding_id: string;
  deadline: string;
  due_by: string;
  landed_at: string | null;
  path: string | null;
  message: string;
}

export function freshnessBreachLog(finding: FreshnessFinding): FreshnessBreachLog {
  const what =
    finding.kind === 'missing'
      ? `no file yet, ${finding.delayMinutes} min after its deadline`
      : `first file landed ${finding.delayMinutes} min after its deadline`;
  return {
    event: FRESHNESS_BREACH_EVENT,
    source: finding.source,
    dataset: finding.dataset,
    date: finding.date,
    kind: finding.kind,
    delay_minutes: finding.delayMinutes,
    finding_id: finding.id,
    deadline: finding.deadline,
    due_by: finding.dueBy,
    landed_at: finding.landedAt,
    path: finding.path,
    message: `${finding.dataset}/${finding.source} ${finding.date} ${finding.kind}: ${what} (${finding.deadline}, grace ${finding.graceMinutes} min)`,
  };
}

/** The log line itself: compact JSON, `event` first. */
export function formatFreshnessBreach(log: FreshnessBreachLog): string {
  return JSON.stringify(log);
}
