/**
 * The operator API over runs (functions/runsApi.ts, local/cli/runs.ts), free of the Functions runtime, in
 * three parts: requests and errors (runsRequest.ts), listing and paging (runsList.ts), replays
 * (runsReplay.ts). Who is calling is caller.ts.
 */
export * from './runsList';
export * from './runsReplay';
export * from './runsRequest';
