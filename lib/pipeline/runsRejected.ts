import { createInterface } from 'node:readline';

import { z } from 'zod';

import { datasetColumns, type DatasetName } from '../contracts/datasets';
import { LakewattError } from '../errors';
import { type LakeStore, NotFoundError } from '../lake';
import { REJECTED_FILE, stagingPrefix } from '../validation/stage';
import { PULL_ORCHESTRATION } from './prices';
import { ingestInputOf, type InstanceLike } from './runsList';
import { describeIssues, invalidRequest, RunsApiError } from './runsRequest';

/**
 * `GET /api/runs/{id}/rejected`: the rejected rows of one generation of an ingestion, read from
 * `quarantine/{dataset}/{id}/g{generation}/rejected.ndjson` (lib/validation/stage.ts), a page at a time,
 * each with its reason codes. For a dataset whose contract marks PII columns (customers), the raw line is
 * withheld: the reasons name the columns, never their values.
 */

export const DEFAULT_REJECTED_PAGE = 100;
export const MAX_REJECTED_PAGE = 1000;
const QUARANTINE = 'quarantine';

const wholeNumber = z
  .string()
  .regex(/^\d{1,9}$/, 'expected a whole number')
  .transform(Number);

const rejectedQuerySchema = z.strictObject(
  {
    generation: wholeNumber.optional(),
    offset: wholeNumber.default(0),
    top: wholeNumber
      .pipe(
        z
          .number()
          .min(1, 'must be at least 1')
          .max(MAX_REJECTED_PAGE, `must be at most ${MAX_REJECTED_PAGE}`),
      )
      .default(DEFAULT_REJECTED_PAGE),
  },
  { error: 'unknown parameter' },
);

export type RejectedRowsQuery = z.output<typeof rejectedQuerySchema>;

/** Query string of `GET /api/runs/{id}/rejected`: `generation` (default: the run's), `offset`, `top`. */
export function parseRejectedRowsQuery(query: Iterable<[string, string]>): RejectedRowsQuery {
  const values: Record<string, string> = {};
  for (const [key, value] of query) {
    // The function key the platform may add is not a parameter of this route.
    if (key !== 'code') values[key] = value;
  }
  const parsed = rejectedQuerySchema.safeParse(values);
  if (!parsed.success) throw invalidRequest(describeIssues(parsed.error));
  return parsed.data;
}

const rejectedRowSchema = z.object({
  line: z.number().int(),
  column: z.string().optional(),
  rows: z.number().int().nonnegative(),
  raw: z.string(),
  reasons: z.array(z.object({ code: z.string(), message: z.string(), column: z.string().optional() })),
});

export interface RejectedRowView {
  line: number;
  column: string | null;
  /** Canonical rows the record stands for (a wide row rejected whole holds several). */
  rows: number;
  /** The line as the source sent it (cut at 1,000 characters); null when the dataset holds PII. */
  raw: string | null;
  reasons: Array<{ code: string; message: string; column: string | null }>;
}

export interface RejectedRowsPage {
  instanceId: string;
  generation: number;
  dataset: string;
  /** `quarantine/...` path of the generation's rejected rows; null when it rejected none. */
  path: string | null;
  rawWithheld: boolean;
  offset: number;
  rows: RejectedRowView[];
  /** The offset of the next page; null on the last one. */
  nextOffset: number | null;
}

/** The quarantine file of rejected rows held a line that is not a rejected row: the lake was altered. */
export class RejectedRowsUnreadableError extends LakewattError {
  constructor(path: string, line: number) {
    super('REJECTED_ROWS_UNREADABLE', `${path}: line ${line} is not a rejected row record`);
  }
}

const holdsPii = (dataset: DatasetName): boolean => datasetColumns(dataset).some((column) => column.pii);

/** One page of the rejected rows of `instance` (an ingestion) for the query's generation. */
export async function readRejectedRows(
  lake: LakeStore,
  instance: InstanceLike,
  query: RejectedRowsQuery,
): Promise<RejectedRowsPage> {
  const input = ingestInputOf(instance);
  if (!input) {
    if (instance.name === PULL_ORCHESTRATION) {
      throw new RunsApiError(
        400,
        'NOT_AN_INGESTION',
        `run ${instance.instanceId} is a price pull; rejected rows belong to the ingestion of its file`,
      );
    }
    throw new RunsApiError(409, 'RUN_INPUT_UNREADABLE', `run ${instance.instanceId} has no readable input`);
  }
  const generation = query.generation ?? input.generation;
  if (generation > input.generation) {
    throw new RunsApiError(
      404,
      'GENERATION_NOT_FOUND',
      `run ${instance.instanceId} has generations 0 to ${input.generation}, not ${generation}`,
    );
  }
  const dataset = input.file.dataset;
  const path = `${stagingPrefix(dataset, instance.instanceId, generation)}${REJECTED_FILE}`;
  const withheld = holdsPii(dataset);
  const page: RejectedRowsPage = {
    instanceId: instance.instanceId,
    generation,
    dataset,
    path: `${QUARANTINE}/${path}`,
    rawWithheld: withheld,
    offset: query.offset,
    rows: [],
    nextOffset: null,
  };
  let opened;
  try {
    opened = await lake.readStream(QUARANTINE, path);
  } catch (error) {
    if (error instanceof NotFoundError) return { ...page, path: null };
    throw error;
  }
  const lines = createInterface({ input: opened.stream, crlfDelay: Infinity });
  let index = -1;
  try {
    for await (const text of lines) {
      if (text.trim() === '') continue;
      index++;
      if (index < query.offset) continue;
      if (index >= query.offset + query.top) {
        page.nextOffset = index;
        break;
      }
      page.rows.push(viewOf(text, withheld, page.path!, index + 1));
    }
  } finally {
    lines.close();
    opened.stream.destroy();
  }
  return page;
}

function viewOf(text: string, withheld: boolean, path: string, record: number): RejectedRowView {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RejectedRowsUnreadableError(path, record);
  }
  const parsed = rejectedRowSchema.safeParse(value);
  if (!parsed.success) throw new RejectedRowsUnreadableError(path, record);
  const row = parsed.data;
  return {
    line: row.line,
    column: row.column ?? null,
    rows: row.rows,
    raw: withheld ? null : row.raw,
    reasons: row.reasons.map((reason) => ({ ...reason, column: reason.column ?? null })),
  };
}
