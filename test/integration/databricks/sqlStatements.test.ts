import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  DatabricksApiError,
  DatabricksStatementError,
  SqlClient,
  StaticTokenProvider,
  toRecords,
} from '../../../lib/databricks';
import { readJobsLock } from '../../../local/databricks/emulator';
import { runCli } from '../../helpers/cli';
import { type Harness, startHarness, stopHarness, waitForRun } from './support';

// One warm emulator (one JVM) for the file; its lake holds one small gold table written by a fixture job.
jest.setTimeout(120_000);

let harness: Harness;
let sql: SqlClient;
let lakeRoot: string;

const WAREHOUSE = 'test-warehouse';

async function post(body: Record<string, unknown>, token = harness.token): Promise<Response> {
  return fetch(`${harness.emulator.url}/api/2.0/sql/statements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ warehouse_id: WAREHOUSE, wait_timeout: '30s', ...body }),
  });
}

beforeAll(async () => {
  lakeRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-sql-lake-'));
  harness = await startHarness({ prewarm: true, lakeRoot, env: {} });
  sql = new SqlClient({
    host: harness.emulator.url,
    tokens: new StaticTokenProvider(harness.token),
    pollIntervalMs: 50,
  });
  const { runId } = await harness.client.runJob('fixture-delta', {
    jobParameters: { output: `file://${lakeRoot}/gold/greetings`, orchestration_id: 'sql-test' },
  });
  const run = await waitForRun(harness.client, runId);
  expect(run.outcome.kind).toBe('Succeeded');
}, 180_000);

afterAll(async () => {
  await stopHarness(harness);
  await fs.rm(lakeRoot, { recursive: true, force: true });
});

describe('SQL Statement Execution API', () => {
  it('when a SELECT reads a gold table, then its rows come back as strings with the columns in the manifest', async () => {
    const started = Date.now();
    const result = await sql.executeStatement('SELECT id, greeting FROM gold.greetings ORDER BY id', {
      warehouseId: WAREHOUSE,
      waitTimeoutSeconds: 30,
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.columns).toEqual([
      { name: 'id', typeName: 'INT', typeText: 'INT', position: 0 },
      { name: 'greeting', typeName: 'STRING', typeText: 'STRING', position: 1 },
    ]);
    expect(result.rows).toEqual([
      ['1', 'hello-local'],
      ['2', 'hello-local'],
    ]);
    expect(toRecords(result)).toEqual([
      { id: 1, greeting: 'hello-local' },
      { id: 2, greeting: 'hello-local' },
    ]);
  });

  it('when SHOW TABLES IN gold runs, then it lists the Delta tables under the lake gold root', async () => {
    const result = await sql.executeStatement('SHOW TABLES IN gold', { warehouseId: WAREHOUSE });
    expect(toRecords(result)).toEqual([{ namespace: 'gold', tableName: 'greetings', isTemporary: false }]);
  });

  it('when a statement has a syntax error, then it ends FAILED with the Spark parse error', async () => {
    const answer = (await (await post({ statement: 'SELEC id FROM gold.greetings' })).json()) as {
      statement_id: string;
      status: { state: string; error: { error_code: string; message: string } };
    };
    expect(answer.status.state).toBe('FAILED');
    expect(answer.status.error.error_code).toBe('BAD_REQUEST');
    expect(answer.status.error.message).toMatch(/^\[PARSE_SYNTAX_ERROR\] Syntax error at or near 'SELEC'/);
  });

  it('when an INSERT is sent, then it is refused with INSUFFICIENT_PERMISSIONS and the table is unchanged', async () => {
    const failure = sql.executeStatement("INSERT INTO gold.greetings VALUES (3, 'x', 'y', 'z')", {
      warehouseId: WAREHOUSE,
    });
    await expect(failure).rejects.toBeInstanceOf(DatabricksStatementError);
    await expect(failure).rejects.toMatchObject({
      code: 'DATABRICKS_STATEMENT_FAILED',
      state: 'FAILED',
      errorCode: 'BAD_REQUEST',
      errorClass: 'INSUFFICIENT_PERMISSIONS',
    });
    const count = await sql.executeStatement('SELECT count(*) AS n FROM gold.greetings', {
      warehouseId: WAREHOUSE,
    });
    expect(count.rows).toEqual([['2']]);
  });

  describe('read-only allow-list', () => {
    const refusal = (statement: string): Promise<unknown> =>
      sql.executeStatement(statement, { warehouseId: WAREHOUSE }).then(
        () => 'the statement ran',
        (thrown: unknown) => thrown,
      );

    it('when a SELECT pipes rows through a script (TRANSFORM ... USING), then it is refused and the command never runs', async () => {
      const marker = path.join(lakeRoot, 'transform-ran');
      const error = await refusal(
        `SELECT TRANSFORM(greeting) USING 'touch ${marker}; cat' AS (g) FROM gold.greetings`,
      );
      expect(error).toMatchObject({
        code: 'DATABRICKS_STATEMENT_FAILED',
        errorCode: 'BAD_REQUEST',
        errorClass: 'INSUFFICIENT_PERMISSIONS.SCRIPT_TRANSFORMATION',
      });
      expect(existsSync(marker)).toBe(false);
    });

    it('when a SELECT reads a file by path (text.`<path>`), then it is refused before the file is read', async () => {
      const secret = path.join(lakeRoot, 'not-a-table.txt');
      await fs.writeFile(secret, 'a line nobody should read over SQL\n');
      const error = await refusal(`SELECT * FROM text.\`${secret}\``);
      expect(error).toMatchObject({
        errorCode: 'BAD_REQUEST',
        errorClass: 'INSUFFICIENT_PERMISSIONS.PATH_BASED_RELATION',
      });
      expect((error as Error).message).not.toContain('nobody should read');
    });

    it('when a SELECT reads a Delta folder by path (delta.`<path>`), then it is refused', async () => {
      const error = await refusal(`SELECT * FROM delta.\`${lakeRoot}/gold/greetings\``);
      expect(error).toMatchObject({ errorClass: 'INSUFFICIENT_PERMISSIONS.PATH_BASED_RELATION' });
    });

    it('when a WITH clause leads into a write (INSERT OVERWRITE DIRECTORY), then it is refused and nothing is written', async () => {
      const target = path.join(lakeRoot, 'exported');
      const error = await refusal(
        `WITH g AS (SELECT * FROM gold.greetings) INSERT OVERWRITE LOCAL DIRECTORY '${target}' USING csv SELECT * FROM g`,
      );
      expect(error).toMatchObject({ errorCode: 'BAD_REQUEST', errorClass: 'INSUFFICIENT_PERMISSIONS' });
      expect(existsSync(target)).toBe(false);
    });

    it('when a SELECT calls a JVM method (reflect), then it is refused', async () => {
      const error = await refusal("SELECT reflect('java.lang.System', 'getProperty', 'user.home') AS h");
      expect(error).toMatchObject({ errorClass: 'INSUFFICIENT_PERMISSIONS.CODE_EXECUTION' });
    });

    it('when a query joins, aggregates, uses a CTE, a subquery and range(), then it still runs', async () => {
      const result = await sql.executeStatement(
        `WITH g AS (SELECT id, greeting FROM gold.greetings)
         SELECT g.id, count(*) AS n, max(r.id) AS top
         FROM g JOIN range(0, 5) r ON r.id >= g.id
         WHERE g.id IN (SELECT id FROM gold.greetings WHERE greeting LIKE 'hello%')
         GROUP BY g.id ORDER BY g.id`,
        { warehouseId: WAREHOUSE },
      );
      expect(result.rows).toEqual([
        ['1', '4', '4'],
        ['2', '3', '4'],
      ]);
    });
  });

  it('when a query filters its groups (HAVING) and rolls them up (GROUPING SETS), then it still runs', async () => {
    const result = await sql.executeStatement(
      `SELECT greeting, count(*) AS n FROM gold.greetings
       GROUP BY GROUPING SETS ((greeting), ()) HAVING count(*) >= 1 ORDER BY n, greeting`,
      { warehouseId: WAREHOUSE },
    );
    // Both rows greet alike: one group of two, and the grand total (greeting null) of two.
    expect(result.rows).toEqual([
      [null, '2'],
      ['hello-local', '2'],
    ]);
  });

  it('when the bearer token is wrong, then the statement route answers 401 UNAUTHENTICATED', async () => {
    const response = await post({ statement: 'SELECT 1' }, 'not-the-token');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error_code: 'UNAUTHENTICATED' });
    const client = new SqlClient({ host: harness.emulator.url, tokens: new StaticTokenProvider('wrong') });
    await expect(client.executeStatement('SELECT 1', { warehouseId: WAREHOUSE })).rejects.toBeInstanceOf(
      DatabricksApiError,
    );
  });

  it('when wait_timeout is 0s, then the answer is PENDING or RUNNING and GET polls it to SUCCEEDED', async () => {
    const first = (await (await post({ statement: 'SELECT 42 AS answer', wait_timeout: '0s' })).json()) as {
      statement_id: string;
      status: { state: string };
    };
    expect(['PENDING', 'RUNNING']).toContain(first.status.state);
    let state = first.status.state;
    let body: Record<string, unknown> = {};
    for (let i = 0; i < 200 && (state === 'PENDING' || state === 'RUNNING'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const response = await fetch(`${harness.emulator.url}/api/2.0/sql/statements/${first.statement_id}`, {
        headers: { authorization: `Bearer ${harness.token}` },
      });
      body = (await response.json()) as Record<string, unknown>;
      state = (body.status as { state: string }).state;
    }
    expect(body).toMatchObject({
      statement_id: first.statement_id,
      status: { state: 'SUCCEEDED' },
      manifest: {
        format: 'JSON_ARRAY',
        schema: { column_count: 1, columns: [{ name: 'answer', type_name: 'INT', position: 0 }] },
        total_row_count: 1,
        truncated: false,
      },
      result: { row_count: 1, data_array: [['42']] },
    });
  });

  it('when row_limit is below the row count, then the result is cut and marked truncated', async () => {
    const result = await sql.executeStatement('SELECT * FROM gold.greetings', {
      warehouseId: WAREHOUSE,
      rowLimit: 1,
    });
    expect(result.rows).toHaveLength(1);
    expect(result.truncated).toBe(true);
  });

  it('when a job task is running, then a statement still answers beside it', async () => {
    const { runId } = await harness.client.runJob('fixture-long', {
      jobParameters: { mode: 'python', seconds: '60' },
    });
    try {
      await waitForRun(harness.client, runId, (run) => run.raw.state?.life_cycle_state === 'RUNNING');
      const started = Date.now();
      const result = await sql.executeStatement('SELECT max(id) AS top FROM gold.greetings', {
        warehouseId: WAREHOUSE,
      });
      expect(result.rows).toEqual([['2']]);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await harness.client.getRun(runId)).raw.state?.life_cycle_state).toBe('RUNNING');
    } finally {
      await harness.client.cancelRun(runId);
      await waitForRun(harness.client, runId);
    }
  });

  it('when a running statement is cancelled, then it ends CANCELED', async () => {
    const first = (await (
      await post({ statement: 'SELECT sum(id % 7) FROM range(0, 100000000000)', wait_timeout: '0s' })
    ).json()) as { statement_id: string };
    const cancel = await fetch(
      `${harness.emulator.url}/api/2.0/sql/statements/${first.statement_id}/cancel`,
      { method: 'POST', headers: { authorization: `Bearer ${harness.token}` } },
    );
    expect(cancel.status).toBe(200);
    const after = await sql.getStatementResponse(first.statement_id);
    expect(after.status.state).toBe('CANCELED');
    // Its Spark jobs stopped: a statement that needs the task slots answers.
    const started = Date.now();
    const next = await sql.executeStatement('SELECT sum(id) AS total FROM range(0, 1000)', {
      warehouseId: WAREHOUSE,
    });
    expect(next.rows).toEqual([['499500']]);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('lakewatt sql', () => {
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const key of ['LAKEWATT_HOME', 'DATABRICKS_TOKEN', 'LAKE_ROOT', 'LOCAL_JOBS_PORT'])
      saved[key] = process.env[key];
    process.env.LAKEWATT_HOME = harness.home;
    process.env.DATABRICKS_TOKEN = harness.token;
    process.env.LAKE_ROOT = lakeRoot;
  });
  afterAll(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('when --json is given, then the running emulator answers with typed columns and rows', async () => {
    const { code, stdout, stderr } = await runCli(
      'sql',
      'SELECT id, greeting FROM gold.greetings ORDER BY id',
      '--json',
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({
      columns: [
        { name: 'id', type: 'INT' },
        { name: 'greeting', type: 'STRING' },
      ],
      rows: [
        { id: 1, greeting: 'hello-local' },
        { id: 2, greeting: 'hello-local' },
      ],
    });
  });

  it('when no option is given, then an aligned table is printed', async () => {
    const { code, stdout } = await runCli('sql', 'SELECT id, greeting FROM gold.greetings ORDER BY id');
    expect(code).toBe(0);
    expect(stdout).toBe(
      ['id  greeting', '--  -----------', ' 1  hello-local', ' 2  hello-local', '(2 rows)', ''].join('\n'),
    );
  });

  it('when no emulator runs for the state folder, then one is started for the command and stopped after it', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-sql-home-'));
    process.env.LAKEWATT_HOME = home;
    process.env.LOCAL_JOBS_PORT = '0';
    try {
      const { code, stdout, stderr } = await runCli(
        'sql',
        'SELECT count(*) AS n FROM gold.greetings',
        '--json',
      );
      expect(code).toBe(0);
      expect(stderr).toMatch(
        /no Jobs emulator runs for .*; starting one for this command \(a cold Spark start takes ~15 s\)/,
      );
      expect(JSON.parse(stdout)).toEqual({ columns: [{ name: 'n', type: 'BIGINT' }], rows: [{ n: 2 }] });
      expect(readJobsLock(home)).toBeUndefined();
    } finally {
      process.env.LAKEWATT_HOME = harness.home;
      delete process.env.LOCAL_JOBS_PORT;
      await fs.rm(home, { recursive: true, force: true });
    }
  }, 180_000);

  it('when the statement writes, then one line names the code and the exit code is 1', async () => {
    const { code, stdout, stderr } = await runCli('sql', 'DELETE FROM gold.greetings');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^lakewatt: DATABRICKS_STATEMENT_FAILED: \[INSUFFICIENT_PERMISSIONS\] .*\n$/);
  });
});
