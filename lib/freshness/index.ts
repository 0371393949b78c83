/**
 * Freshness of scheduled sources: the rule (evaluate.ts, periods.ts), its findings (finding.ts) and their
 * audit records (store.ts), the check the timer runs (check.ts), its log event (breach.ts) and the read API
 * (api.ts). docs/operations.md "Late and missing files".
 */
export * from './api';
export * from './breach';
export * from './check';
export * from './evaluate';
export * from './finding';
export * from './periods';
export * from './store';
