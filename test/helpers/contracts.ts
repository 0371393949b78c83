import { parseSourceContract } from '../../lib/contracts/sources';
import { ContractError } from '../../lib/errors';

/** The canonical meter-readings columns, each mapped from the record field of the same name. */
export const RECORD_COLUMNS = {
  meter_id: 'meter_id',
  channel: 'channel',
  interval_start: 'interval_start',
  interval_minutes: 'interval_minutes',
  kwh: 'kwh',
  quality: 'quality',
};

/**
 * The issues `parseSourceContract` finds in a meter-readings contract of the record format `type` (NEM12,
 * MSCONS, ESPI) with `overrides` applied; empty when the contract is accepted.
 */
export function recordContractIssues(type: string, overrides: Record<string, unknown>): string[] {
  try {
    parseSourceContract(
      {
        source: `${type}_test`,
        dataset: 'meter_readings',
        description: type,
        format: { type },
        layout: { kind: 'long', columns: RECORD_COLUMNS },
        timestamp: { format: 'iso8601', timezone: 'UTC' },
        unit: 'kWh',
        ...overrides,
      },
      'test.yaml',
    );
  } catch (error) {
    if (error instanceof ContractError) return [...error.issues];
    throw error;
  }
  return [];
}
