import { app } from '@azure/functions';

import { loadConfig } from '../lib/config';
import { startTelemetry, stopTelemetry } from '../lib/telemetry';

// Fail fast: an invalid or missing setting stops the app at start-up with every bad key named,
// instead of failing on the first event that needs it.
app.hook.appStart(async () => {
  const config = loadConfig();
  // Traces and events (docs/operations.md "Traces, events and alerts"); a telemetry start that fails leaves
  // telemetry off but never stops the pipeline.
  await startTelemetry(config.telemetry).catch((error: unknown) => {
    console.error(`telemetry: not started (${config.telemetry.exporter}): ${String(error)}`);
  });
});

// Spans and events still buffered go out before the worker stops.
app.hook.appTerminate(() => stopTelemetry());
