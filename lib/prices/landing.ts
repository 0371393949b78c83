import type { DayAheadResult } from './fetch';

/**
 * Bronze path (inside the `bronze` container) of a published day-ahead answer:
 * `landing/prices/{source}/{yyyy}/{mm}/{dd}/{fileName}`, dated by the delivery day, so the landed file's
 * `(dataset, source)` selects its source contract (prices/entsoe, prices/energy-charts).
 */
export function landingPathForPrices(
  result: Extract<DayAheadResult, { kind: 'published' }>,
  deliveryDay: string,
): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(deliveryDay);
  if (!match) throw new Error(`deliveryDay '${deliveryDay}' is not YYYY-MM-DD`);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(result.source) || !/^[A-Za-z0-9][\w.-]*$/.test(result.fileName)) {
    throw new Error(`unsafe landing path parts: ${JSON.stringify([result.source, result.fileName])}`);
  }
  return `landing/prices/${result.source}/${match[1]}/${match[2]}/${match[3]}/${result.fileName}`;
}
