import { app } from '@azure/functions';

import { loadConfig } from '../lib/config';

// Fail fast: an invalid or missing setting stops the app at start-up with every bad key named,
// instead of failing on the first event that needs it.
app.hook.appStart(() => {
  loadConfig();
});
