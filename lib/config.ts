import path from 'node:path';

import { z } from 'zod';

import { DATASET_NAMES, type DatasetName } from './contracts/datasets';
import { ConfigError } from './errors';
import { type DatasetCaps, datasetCapsSchema } from './pipeline/batching';
import { SUPPORTED_ZONES } from './prices/zones';

/**
 * Every setting Lakewatt reads, in one schema. Keys are environment-variable names (the same names are
 * app settings in Azure and `Values` in local.settings.json). Parsed once at start-up by `loadConfig`.
 *
 * Metadata on each key: `doc` (what it is), `secret` (comes from Key Vault in Azure, never committed),
 * `azure` ('required' when the azure mode cannot run without it, 'optional' otherwise, 'local-only' for
 * keys the Bicep does not set).
 */
export interface SettingMeta {
  doc: string;
  secret?: boolean;
  azure: 'required' | 'optional' | 'local-only';
}

const positiveInt = z.coerce.number().int().positive();
const port = z.coerce.number().int().min(0).max(65535);
const httpUrl = z.url({ protocol: /^https?$/ });
const jsonText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected JSON' });
    return z.NEVER;
  }
});
const csvList = z
  .string()
  .transform((s) => s.split(',').map((item) => item.trim()))
  .pipe(z.array(z.string().min(1)).min(1));

const SETTING_DEFINITIONS = {
  LAKEWATT_MODE: {
    schema: z.enum(['local', 'azure']).default('local'),
    meta: { doc: "Where the app runs: 'local' (embedded default, folders) or 'azure'.", azure: 'required' },
  },
  LAKEWATT_HOME: {
    schema: z.string().min(1).default('.lakewatt'),
    meta: { doc: 'Local state folder: lake folders, SQLite state, logs.', azure: 'local-only' },
  },
  LAKE_ROOT: {
    schema: z.string().min(1).optional(),
    meta: {
      doc: 'Local lake root (one folder per container). Default: $LAKEWATT_HOME/lake.',
      azure: 'local-only',
    },
  },
  LAKE_BLOB_ENDPOINT: {
    schema: httpUrl.optional(),
    meta: {
      doc: 'Blob endpoint of the ADLS Gen2 account, e.g. https://<account>.blob.core.windows.net.',
      azure: 'required',
    },
  },
  LAKE_DFS_ENDPOINT: {
    schema: httpUrl.optional(),
    meta: { doc: 'DFS endpoint of the same account, for atomic renames.', azure: 'required' },
  },
  AZURE_CLIENT_ID: {
    schema: z.string().min(1).optional(),
    meta: {
      doc: 'Client id of the user-assigned managed identity the app authenticates with.',
      azure: 'required',
    },
  },
  TASKHUB_NAME: {
    schema: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]{2,44}$/, 'letters and digits, 3-45 characters, starting with a letter')
      .default('lakewatt'),
    meta: { doc: 'Durable Functions task hub name.', azure: 'required' },
  },
  DATABRICKS_HOST: {
    schema: httpUrl.optional(),
    meta: {
      doc: 'Databricks workspace URL (https://adb-<id>.<n>.azuredatabricks.net); locally the Jobs API emulator.',
      azure: 'required',
    },
  },
  DATABRICKS_AUTH: {
    schema: z.enum(['managed-identity', 'pat', 'static']).optional(),
    meta: {
      doc: "How to authenticate to Databricks: 'managed-identity' (Azure), 'pat' (development), 'static' (emulator).",
      azure: 'required',
    },
  },
  DATABRICKS_TOKEN: {
    schema: z.string().min(1).optional(),
    meta: {
      doc: "Personal access token ('pat'); with 'static', the local Jobs emulator's token, read from $LAKEWATT_HOME/secrets/jobs-token when unset.",
      secret: true,
      azure: 'local-only',
    },
  },
  DATABRICKS_SILVER_JOB: {
    schema: z.string().min(1).default('lakewatt-silver'),
    meta: { doc: 'Name of the Databricks job that builds silver tables.', azure: 'required' },
  },
  DATABRICKS_GOLD_JOB: {
    schema: z.string().min(1).default('lakewatt-gold'),
    meta: { doc: 'Name of the Databricks job that builds gold tables.', azure: 'required' },
  },
  DATABRICKS_SQL_WAREHOUSE_ID: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9]{1,64}$/, 'a SQL warehouse id: letters and digits (its Connection details)')
      .optional(),
    meta: {
      doc: "SQL warehouse the operations console's queries run on, as the signed-in user (unset: the console's SQL routes answer 503).",
      azure: 'optional',
    },
  },
  DATABRICKS_SQL_CATALOG: {
    schema: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'a Unity Catalog catalog name')
      .optional(),
    meta: {
      doc: "Unity Catalog catalog the console's two-part names (gold.daily_consumption) resolve in.",
      azure: 'optional',
    },
  },
  JOB_POLL_MIN_SECONDS: {
    schema: positiveInt.default(5),
    meta: { doc: 'First wait between two polls of a Databricks run.', azure: 'optional' },
  },
  JOB_POLL_MAX_SECONDS: {
    schema: positiveInt.default(60),
    meta: { doc: 'Longest wait between two polls of a Databricks run (backoff cap).', azure: 'optional' },
  },
  JOB_DEADLINE_MINUTES: {
    schema: positiveInt.default(120),
    meta: {
      doc: 'After this long running (time in the Jobs queue not counted) a Databricks run is cancelled and the step fails.',
      azure: 'optional',
    },
  },
  JOBS_API_OUTAGE_MINUTES: {
    schema: positiveInt.default(60),
    meta: {
      doc: 'How long an orchestration rides out a Jobs API that is unreachable or answers 429/5xx (durable waits, 30 s doubling to 5 min) before the step fails with JOBS_API_UNAVAILABLE.',
      azure: 'optional',
    },
  },
  BATCH_MAX_FILES: {
    schema: positiveInt.default(500),
    meta: { doc: 'Most files one batched silver or gold run takes (group commit).', azure: 'optional' },
  },
  BATCH_MAX_ROWS: {
    schema: positiveInt.default(20_000_000),
    meta: {
      doc: 'Most staged rows one batched run takes (a single larger file still runs alone).',
      azure: 'optional',
    },
  },
  BATCH_MAX_BYTES: {
    schema: positiveInt.default(10 * 2 ** 30),
    meta: {
      doc: 'Most bronze bytes one batched run takes (a single larger file still runs alone).',
      azure: 'optional',
    },
  },
  BATCH_WAIT_MINUTES: {
    schema: positiveInt.default(360),
    meta: {
      doc: 'How long a file waits for its batch to report before its step fails with BATCH_WAIT_EXCEEDED.',
      azure: 'optional',
    },
  },
  BATCH_LINGER_SECONDS: {
    schema: z.coerce.number().int().min(0).max(600).default(0),
    meta: {
      doc: 'How long a batch started on an idle queue waits for more files before its run (0: starts at once).',
      azure: 'optional',
    },
  },
  BATCH_CAPS_BY_DATASET: {
    schema: jsonText.pipe(z.partialRecord(z.enum(DATASET_NAMES), datasetCapsSchema)).optional(),
    meta: {
      doc: 'Silver batch caps per dataset as JSON, e.g. {"meter_readings":{"maxFiles":1000}} (others: BATCH_MAX_*).',
      azure: 'optional',
    },
  },
  SOURCE_CONTRACTS_DIR: {
    schema: z.string().min(1).default('contracts/sources'),
    meta: {
      doc: 'Folder of source contract files (YAML or JSON), relative to the app root.',
      azure: 'optional',
    },
  },
  VALIDATION_MAX_FILE_BYTES: {
    schema: positiveInt.default(4 * 1024 ** 3),
    meta: { doc: 'Largest bronze file accepted, in bytes.', azure: 'optional' },
  },
  VALIDATION_MAX_DECOMPRESSED_BYTES: {
    schema: positiveInt.default(16 * 1024 ** 3),
    meta: { doc: 'Largest decompressed size of a gzip file, in bytes.', azure: 'optional' },
  },
  VALIDATION_MAX_COMPRESSION_RATIO: {
    schema: positiveInt.default(200),
    meta: { doc: 'Largest decompressed/compressed ratio before a gzip file is rejected.', azure: 'optional' },
  },
  VALIDATION_MAX_LINE_BYTES: {
    schema: positiveInt.default(64 * 1024),
    meta: { doc: 'Longest line accepted in a text file, in bytes.', azure: 'optional' },
  },
  VALIDATION_MAX_SERIES: {
    // 600,000 series: ~780 MiB peak RSS for one validation (bench/validation/series.ts), so the two a 2 GB
    // instance runs at once fit with the host beside them (decision 0017).
    schema: positiveInt.default(600_000),
    meta: {
      doc: 'Most (meter, channel) series in one meter-readings file; a file with more is rejected as TOO_MANY_SERIES.',
      azure: 'optional',
    },
  },
  PII_HASH_KEY: {
    schema: z.string().min(16, 'at least 16 characters').optional(),
    meta: {
      doc: 'Key of the keyed hash that masks PII in silver (Key Vault / Databricks secret in Azure).',
      secret: true,
      azure: 'local-only',
    },
  },
  PRICES_SCHEDULE: {
    schema: z
      .string()
      .regex(/^(\S+\s+){5}\S+$/, 'a six-field NCRONTAB expression')
      .default('0 15 13 * * *'),
    meta: { doc: 'NCRONTAB schedule of the day-ahead price pull (UTC).', azure: 'optional' },
  },
  RECONCILE_SCHEDULE: {
    schema: z
      .string()
      .regex(/^(\S+\s+){5}\S+$/, 'a six-field NCRONTAB expression')
      .default('0 7,37 * * * *'),
    meta: {
      doc: 'NCRONTAB schedule of the landing reconciliation (files with no run, misplaced files).',
      azure: 'optional',
    },
  },
  RECONCILE_GRACE_MINUTES: {
    schema: z.coerce.number().int().min(0).default(30),
    meta: {
      doc: 'How old a landing file must be before the reconciliation starts it (its event may still come).',
      azure: 'optional',
    },
  },
  RECONCILE_LOOKBACK_HOURS: {
    schema: positiveInt.max(24 * 31).default(48),
    meta: {
      doc: 'How far back the reconciliation looks at landing files (by last write).',
      azure: 'optional',
    },
  },
  FRESHNESS_SCHEDULE: {
    schema: z
      .string()
      .regex(/^(\S+\s+){5}\S+$/, 'a six-field NCRONTAB expression')
      .default('0 */15 * * * *'),
    meta: {
      doc: 'NCRONTAB schedule of the freshness check (late and missing files of sources with a schedule).',
      azure: 'optional',
    },
  },
  FRESHNESS_LOOKBACK_DAYS: {
    // A file arriving more days than this after its delivery day is never judged late (its missing finding
    // stays); 14 covers a week's grace (the most a contract may declare) and the simulator's 3-7 day late files.
    schema: positiveInt.max(92).default(14),
    meta: {
      doc: 'How many delivery days back the freshness check judges, and the default window of GET /api/freshness.',
      azure: 'optional',
    },
  },
  PRICES_ZONES: {
    schema: csvList.default(['DE-LU', 'NL']),
    meta: {
      doc: 'Comma-separated bidding zones whose day-ahead prices are pulled; every configured provider must serve each (lib/prices/zones.ts).',
      azure: 'optional',
    },
  },
  PRICES_PROVIDERS: {
    schema: csvList.pipe(z.array(z.enum(['entsoe', 'energy-charts']))).default(['energy-charts']),
    meta: { doc: "Comma-separated price providers: 'entsoe', 'energy-charts'.", azure: 'optional' },
  },
  ENTSOE_BASE_URL: {
    schema: httpUrl.default('https://web-api.tp.entsoe.eu/api'),
    meta: { doc: 'ENTSO-E Transparency Platform API base URL.', azure: 'optional' },
  },
  ENTSOE_SECURITY_TOKEN: {
    schema: z.string().min(1).optional(),
    meta: {
      doc: 'ENTSO-E API security token; needed when PRICES_PROVIDERS includes entsoe.',
      secret: true,
      azure: 'optional',
    },
  },
  ENERGY_CHARTS_BASE_URL: {
    schema: httpUrl.default('https://api.energy-charts.info'),
    meta: { doc: 'Energy-Charts API base URL.', azure: 'optional' },
  },
  TELEMETRY_EXPORTER: {
    schema: z.enum(['auto', 'off', 'console', 'file', 'azure-monitor']).default('auto'),
    meta: {
      doc: "Where traces and events go: 'azure-monitor' (Application Insights), 'file' (JSON lines), 'console' (stderr), 'off'; 'auto': azure-monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set, else off.",
      azure: 'optional',
    },
  },
  TELEMETRY_FILE: {
    schema: z.string().min(1).optional(),
    meta: {
      doc: "JSON-lines file of the 'file' telemetry exporter. Default: $LAKEWATT_HOME/logs/telemetry.jsonl.",
      azure: 'local-only',
    },
  },
  TELEMETRY_SAMPLING_PERCENTAGE: {
    schema: z.coerce.number().min(0).max(100).default(100),
    meta: {
      doc: 'Share of file traces sent to Application Insights (by trace id, whole traces); events are never sampled.',
      azure: 'optional',
    },
  },
  LOCAL_HOST_PORT: {
    schema: port.default(7071),
    meta: { doc: 'Port of the local Functions host (always bound to 127.0.0.1).', azure: 'local-only' },
  },
  LOCAL_JOBS_PORT: {
    schema: port.default(7072),
    meta: { doc: 'Port of the local Jobs API emulator (always bound to 127.0.0.1).', azure: 'local-only' },
  },
  LOCAL_JOBS_BUNDLE_DIR: {
    schema: z.string().min(1).default('databricks'),
    meta: { doc: 'Asset Bundle folder whose jobs the local Jobs API emulator runs.', azure: 'local-only' },
  },
  LOCAL_JOBS_TARGET: {
    schema: z.string().min(1).default('local'),
    meta: { doc: 'Bundle target the local Jobs API emulator resolves variables from.', azure: 'local-only' },
  },
  LOCAL_JOBS_EXECUTION: {
    schema: z.enum(['warm', 'fresh']).default('warm'),
    meta: {
      doc: "How the emulator runs tasks: 'warm' (a long-lived Spark worker) or 'fresh' (a new process per task).",
      azure: 'local-only',
    },
  },
  LOCAL_JOBS_WORKERS: {
    schema: positiveInt.max(8).default(1),
    meta: {
      doc: 'Local Spark workers (one JVM each) the emulator runs tasks on in parallel.',
      azure: 'local-only',
    },
  },
  LOCAL_JOBS_FAULTS: {
    schema: z.string().min(1).optional(),
    meta: {
      doc: 'Faults the Jobs API emulator injects: JSON, or @<file> holding JSON (see docs/jobs-emulator.md).',
      azure: 'local-only',
    },
  },
} satisfies Record<string, { schema: z.ZodType; meta: SettingMeta }>;

export type SettingKey = keyof typeof SETTING_DEFINITIONS;

export const SETTINGS: {
  [K in SettingKey]: { schema: (typeof SETTING_DEFINITIONS)[K]['schema']; meta: SettingMeta };
} = SETTING_DEFINITIONS;

const envSchema = z.object(
  Object.fromEntries(Object.entries(SETTINGS).map(([key, setting]) => [key, setting.schema])) as {
    [K in SettingKey]: (typeof SETTINGS)[K]['schema'];
  },
);

type Env = z.output<typeof envSchema>;

export interface LakewattConfig {
  mode: 'local' | 'azure';
  home: string;
  lake:
    | { kind: 'local'; root: string }
    | { kind: 'azure'; blobEndpoint: string; dfsEndpoint: string; clientId: string };
  taskHub: string;
  databricks: {
    host: string | undefined;
    auth: 'managed-identity' | 'pat' | 'static';
    token: string | undefined;
    /**
     * With 'static' auth and no DATABRICKS_TOKEN: the file the local Jobs emulator writes its per-start token
     * to (`$LAKEWATT_HOME/secrets/jobs-token`), read by the client.
     */
    tokenFile: string | undefined;
    silverJob: string;
    goldJob: string;
    /** The console's SQL warehouse and catalog (functions/consoleSql.ts). */
    sqlWarehouseId: string | undefined;
    sqlCatalog: string | undefined;
    pollMinSeconds: number;
    pollMaxSeconds: number;
    deadlineMinutes: number;
    outageMinutes: number;
  };
  /** Group commit: caps per batched run, and how long a file waits for its batch. */
  reconcile: { schedule: string; graceMinutes: number; lookbackHours: number };
  freshness: { schedule: string; lookbackDays: number };
  batch: {
    maxFiles: number;
    maxRows: number;
    maxBytes: number;
    waitMinutes: number;
    lingerSeconds: number;
    byDataset: Partial<Record<DatasetName, DatasetCaps>>;
  };
  sourceContractsDir: string;
  validation: {
    maxFileBytes: number;
    maxDecompressedBytes: number;
    maxCompressionRatio: number;
    maxLineBytes: number;
    maxSeries: number;
  };
  piiHashKey: string | undefined;
  prices: {
    schedule: string;
    zones: string[];
    providers: Array<'entsoe' | 'energy-charts'>;
    entsoeBaseUrl: string;
    entsoeToken: string | undefined;
    energyChartsBaseUrl: string;
  };
  local: { hostPort: number; jobsPort: number };
  /** Traces and structured events (lib/telemetry): where they go, started once by functions/index.ts. */
  telemetry: {
    exporter: 'off' | 'console' | 'file' | 'azure-monitor';
    file: string;
    samplingPercentage: number;
    connectionString: string | undefined;
    clientId: string | undefined;
  };
}

/** APPLICATIONINSIGHTS_CONNECTION_STRING: a platform setting (the Functions host reads it too), not a key here. */
const APPINSIGHTS_CONNECTION = 'APPLICATIONINSIGHTS_CONNECTION_STRING';

/** Rules that involve more than one key. Each message names the key to fix. */
function crossKeyIssues(env: Env): string[] {
  const issues: string[] = [];
  if (env.LAKEWATT_MODE === 'azure') {
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      if (SETTINGS[key].meta.azure === 'required' && env[key] === undefined) {
        issues.push(`${key}: required when LAKEWATT_MODE is 'azure' (${SETTINGS[key].meta.doc})`);
      }
    }
    if (env.DATABRICKS_AUTH === 'static') {
      issues.push(
        "DATABRICKS_AUTH: 'static' is for the local Jobs API emulator only; use 'managed-identity'",
      );
    }
  }
  const auth = env.DATABRICKS_AUTH ?? (env.LAKEWATT_MODE === 'azure' ? 'managed-identity' : 'static');
  if ((auth === 'pat' || (auth === 'static' && env.LAKEWATT_MODE === 'azure')) && !env.DATABRICKS_TOKEN) {
    issues.push(`DATABRICKS_TOKEN: required when DATABRICKS_AUTH is '${auth}'`);
  }
  if (env.PRICES_PROVIDERS.includes('entsoe') && !env.ENTSOE_SECURITY_TOKEN) {
    issues.push("ENTSOE_SECURITY_TOKEN: required when PRICES_PROVIDERS includes 'entsoe'");
  }
  for (const provider of env.PRICES_PROVIDERS) {
    const unsupported = env.PRICES_ZONES.filter((zone) => !SUPPORTED_ZONES[provider].includes(zone));
    if (unsupported.length > 0) {
      issues.push(
        `PRICES_ZONES: ${unsupported.join(', ')} not served by price provider '${provider}' (PRICES_PROVIDERS; it serves ${SUPPORTED_ZONES[provider].join(', ')})`,
      );
    }
  }
  if (env.JOB_POLL_MIN_SECONDS > env.JOB_POLL_MAX_SECONDS) {
    issues.push('JOB_POLL_MIN_SECONDS: must not exceed JOB_POLL_MAX_SECONDS');
  }
  return issues;
}

/** The secrets the local servers issue at each start: the Jobs emulator's token, the Functions host's key. */
export type LocalSecretName = 'jobs-token' | 'host-key';

/** Where a local server keeps its per-start secret: `$LAKEWATT_HOME/secrets/<name>` (mode 0600). */
export function localSecretFile(home: string, name: LocalSecretName): string {
  return path.join(path.resolve(home), 'secrets', name);
}

/**
 * Parses and validates every setting at once. Throws a ConfigError whose message names each bad key and
 * what it expects. Empty strings count as unset, as they do in app settings.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): LakewattConfig {
  const raw: Record<string, string> = {};
  // App Service leaves a Key Vault reference it could not resolve as its literal text: treat it as unset,
  // and say so if the key turns out to be needed.
  const unresolved = new Set<string>();
  for (const key of Object.keys(SETTINGS)) {
    const value = source[key];
    if (value === undefined || value.trim() === '') continue;
    if (/^@Microsoft\.KeyVault\(/i.test(value.trim())) unresolved.add(key);
    else raw[key] = value.trim();
  }
  const withHints = (issues: string[]): string[] =>
    issues.map((issue) =>
      unresolved.has(issue.split(':')[0]!)
        ? `${issue} (its Key Vault reference was not resolved: does the secret exist, and may the app's identity read it?)`
        : issue,
    );
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '(root)');
        const value = raw[key];
        // A secret's value is never quoted: configuration errors end up in logs and on consoles.
        const got =
          value === undefined
            ? 'missing'
            : SETTINGS[key as SettingKey]?.meta.secret
              ? `got a value of ${value.length} characters, not shown: the setting is secret`
              : `got ${JSON.stringify(value)}`;
        return `${key}: ${issue.message} (${got})`;
      }),
    );
  }
  const env = parsed.data;
  const issues = crossKeyIssues(env);
  const appInsights = source[APPINSIGHTS_CONNECTION]?.trim() || undefined;
  if (env.TELEMETRY_EXPORTER === 'azure-monitor' && appInsights === undefined) {
    issues.push(
      `TELEMETRY_EXPORTER: 'azure-monitor' needs ${APPINSIGHTS_CONNECTION} (the component to send to)`,
    );
  }
  if (issues.length > 0) throw new ConfigError(withHints(issues));

  const home = path.resolve(env.LAKEWATT_HOME);
  return {
    mode: env.LAKEWATT_MODE,
    home,
    lake:
      env.LAKEWATT_MODE === 'azure'
        ? {
            kind: 'azure',
            blobEndpoint: env.LAKE_BLOB_ENDPOINT!,
            dfsEndpoint: env.LAKE_DFS_ENDPOINT!,
            clientId: env.AZURE_CLIENT_ID!,
          }
        : { kind: 'local', root: path.resolve(env.LAKE_ROOT ?? path.join(home, 'lake')) },
    taskHub: env.TASKHUB_NAME,
    databricks: {
      host: env.DATABRICKS_HOST,
      auth: env.DATABRICKS_AUTH ?? (env.LAKEWATT_MODE === 'azure' ? 'managed-identity' : 'static'),
      token: env.DATABRICKS_TOKEN,
      tokenFile:
        (env.DATABRICKS_AUTH ?? (env.LAKEWATT_MODE === 'azure' ? 'managed-identity' : 'static')) ===
          'static' && env.DATABRICKS_TOKEN === undefined
          ? localSecretFile(home, 'jobs-token')
          : undefined,
      silverJob: env.DATABRICKS_SILVER_JOB,
      goldJob: env.DATABRICKS_GOLD_JOB,
      sqlWarehouseId: env.DATABRICKS_SQL_WAREHOUSE_ID,
      sqlCatalog: env.DATABRICKS_SQL_CATALOG,
      pollMinSeconds: env.JOB_POLL_MIN_SECONDS,
      pollMaxSeconds: env.JOB_POLL_MAX_SECONDS,
      deadlineMinutes: env.JOB_DEADLINE_MINUTES,
      outageMinutes: env.JOBS_API_OUTAGE_MINUTES,
    },
    batch: {
      maxFiles: env.BATCH_MAX_FILES,
      maxRows: env.BATCH_MAX_ROWS,
      maxBytes: env.BATCH_MAX_BYTES,
      waitMinutes: env.BATCH_WAIT_MINUTES,
      lingerSeconds: env.BATCH_LINGER_SECONDS,
      byDataset: env.BATCH_CAPS_BY_DATASET ?? {},
    },
    sourceContractsDir: env.SOURCE_CONTRACTS_DIR,
    validation: {
      maxFileBytes: env.VALIDATION_MAX_FILE_BYTES,
      maxDecompressedBytes: env.VALIDATION_MAX_DECOMPRESSED_BYTES,
      maxCompressionRatio: env.VALIDATION_MAX_COMPRESSION_RATIO,
      maxLineBytes: env.VALIDATION_MAX_LINE_BYTES,
      maxSeries: env.VALIDATION_MAX_SERIES,
    },
    piiHashKey: env.PII_HASH_KEY,
    prices: {
      schedule: env.PRICES_SCHEDULE,
      zones: env.PRICES_ZONES,
      providers: env.PRICES_PROVIDERS,
      entsoeBaseUrl: env.ENTSOE_BASE_URL,
      entsoeToken: env.ENTSOE_SECURITY_TOKEN,
      energyChartsBaseUrl: env.ENERGY_CHARTS_BASE_URL,
    },
    reconcile: {
      schedule: env.RECONCILE_SCHEDULE,
      graceMinutes: env.RECONCILE_GRACE_MINUTES,
      lookbackHours: env.RECONCILE_LOOKBACK_HOURS,
    },
    freshness: { schedule: env.FRESHNESS_SCHEDULE, lookbackDays: env.FRESHNESS_LOOKBACK_DAYS },
    local: { hostPort: env.LOCAL_HOST_PORT, jobsPort: env.LOCAL_JOBS_PORT },
    telemetry: {
      exporter:
        env.TELEMETRY_EXPORTER === 'auto'
          ? appInsights === undefined
            ? 'off'
            : 'azure-monitor'
          : env.TELEMETRY_EXPORTER,
      file: path.resolve(env.TELEMETRY_FILE ?? path.join(home, 'logs', 'telemetry.jsonl')),
      samplingPercentage: env.TELEMETRY_SAMPLING_PERCENTAGE,
      connectionString: appInsights,
      clientId: env.AZURE_CLIENT_ID,
    },
  };
}
