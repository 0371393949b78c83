import * as queries from '../../../console/src/queries';
import {
  checkReadOnly,
  ConsoleSqlError,
  executeBody,
  parseStatementRoute,
  statementSkeleton,
} from '../../../lib/console/sqlStatements';

/* What the console may send to the Databricks SQL Statement Execution API through the Function App. */

const TARGET = { warehouseId: 'abc123def4567890', catalog: 'lakewatt' };

function refusal(run: () => unknown): { status: number; code: string } | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ConsoleSqlError) return { status: error.status, code: error.code };
    throw error;
  }
  return undefined;
}

describe('read-only statements', () => {
  it('when the console runs its own queries, then every one of them passes the check', () => {
    const statements = Object.values(queries as Record<string, unknown>).filter(
      (value): value is string => typeof value === 'string',
    );

    expect(statements.length).toBeGreaterThanOrEqual(8);
    for (const statement of statements)
      expect([statement, refusal(() => checkReadOnly(statement))]).toEqual([statement, undefined]);
  });

  it('when a statement writes or changes state, then it is refused as not read-only', () => {
    for (const statement of [
      'INSERT INTO gold.t VALUES (1)',
      'DROP TABLE gold.daily_consumption',
      'WITH x AS (SELECT 1 AS a) INSERT INTO gold.t SELECT * FROM x',
      'CREATE TABLE gold.copy AS SELECT * FROM gold.daily_consumption',
      'SET spark.sql.ansi.enabled = false',
      'GRANT SELECT ON TABLE gold.t TO `someone@example.com`',
      'SELECT * INTO gold.t FROM gold.daily_consumption',
      'WITH x AS (SELECT 1) UPDATE gold.t SET a = 1',
      'DESCRIBE TABLE gold.daily_consumption',
    ]) {
      expect([statement, refusal(() => checkReadOnly(statement))]).toEqual([
        statement,
        { status: 400, code: 'STATEMENT_NOT_READ_ONLY' },
      ]);
    }
  });

  it('when a second statement follows the first, then it is refused as multiple statements', () => {
    for (const statement of ['SELECT 1; DROP TABLE gold.t', 'SELECT 1; /* x */ SELECT 2', 'SELECT 1;;']) {
      expect([statement, refusal(() => checkReadOnly(statement))]).toEqual([
        statement,
        { status: 400, code: 'MULTIPLE_STATEMENTS' },
      ]);
    }
  });

  it('when a keyword or semicolon is inside a string, identifier or comment, then it does not count', () => {
    for (const statement of [
      "SELECT 'DROP TABLE x; --' AS s",
      'SELECT 1 AS a -- ; DROP TABLE gold.t',
      'SELECT /* ; INSERT */ 1',
      'SELECT `insert;` FROM gold.t',
      "SELECT 'it''s; fine' AS s;",
    ]) {
      expect([statement, refusal(() => checkReadOnly(statement))]).toEqual([statement, undefined]);
    }
  });

  it('when a statement is only a comment, then it is refused as empty', () => {
    expect(refusal(() => checkReadOnly('-- nothing'))).toEqual({ status: 400, code: 'STATEMENT_EMPTY' });
  });

  it('when a comment hides a statement, then the skeleton keeps the code around it and drops the comment', () => {
    expect(statementSkeleton("SELECT 'a' /* b */ -- c\nFROM t").replace(/\s+/g, ' ').trim()).toBe(
      "SELECT 'x' FROM t",
    );
  });
});

describe('routes the Function forwards', () => {
  it('when the page executes, polls and reads a chunk, then each route is recognised', () => {
    expect(parseStatementRoute('POST', '')).toEqual({ kind: 'execute' });
    expect(parseStatementRoute('GET', '01ef-abc')).toEqual({ kind: 'status', statementId: '01ef-abc' });
    expect(parseStatementRoute('GET', '01ef-abc/result/chunks/3')).toEqual({
      kind: 'chunk',
      statementId: '01ef-abc',
      chunkIndex: 3,
    });
  });

  it('when the page asks to cancel or names another path, then it is not forwarded', () => {
    for (const rest of ['01ef-abc/cancel', '../../2.1/jobs/list', '01ef-abc/result/chunks/x', 'a/b/c/d/e']) {
      expect([rest, refusal(() => parseStatementRoute('POST', rest))]).toEqual([
        rest,
        expect.objectContaining({ status: 404, code: 'ROUTE_NOT_FORWARDED' }),
      ]);
    }
  });

  it('when a route is called with the wrong method, then it answers 405', () => {
    expect(refusal(() => parseStatementRoute('GET', ''))).toEqual({
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
    });
    expect(refusal(() => parseStatementRoute('DELETE', '01ef-abc'))).toEqual({
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
    });
  });
});

describe('execute bodies', () => {
  it('when the page names a warehouse, then the configured warehouse and catalog replace it', () => {
    const body = executeBody(
      { statement: 'SELECT 1', warehouse_id: 'chosen-by-page', catalog: 'other' },
      TARGET,
    );

    expect(body).toEqual({
      statement: 'SELECT 1',
      warehouse_id: TARGET.warehouseId,
      catalog: TARGET.catalog,
    });
  });

  it('when the page asks for external links or another format, then the request is invalid', () => {
    for (const extra of [{ disposition: 'EXTERNAL_LINKS' }, { format: 'ARROW_STREAM' }]) {
      expect(refusal(() => executeBody({ statement: 'SELECT 1', ...extra }, TARGET))).toEqual({
        status: 400,
        code: 'INVALID_REQUEST',
      });
    }
  });

  it('when the body has no statement, then the request is invalid', () => {
    expect(refusal(() => executeBody({ parameters: [] }, TARGET))).toEqual({
      status: 400,
      code: 'INVALID_REQUEST',
    });
  });
});
