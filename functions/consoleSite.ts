import path from 'node:path';

import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';

import { readConsoleAsset } from '../lib/console/assets';
import { answerStatementRequest, ConsoleSqlError, refusalBody } from '../lib/console/sqlStatements';
import { callerOf } from '../lib/pipeline/caller';
import { errorReply } from '../lib/pipeline/runsQuery';
import { services } from '../orchestrations/services';

/**
 * The operations console on the Function App: its page (`/api/console/`, the files of dist/console, which the
 * package ships) and the SQL statements the page runs (`/api/2.0/sql/statements...`), sent to the Databricks
 * SQL warehouse with the signed-in user's own token from App Service authentication's token store, so Unity
 * Catalog's grants of that user apply. Entra ID (Easy Auth) stands in front of both; each route also needs
 * the operator app role, as the runs API does. The checks and the sending live in lib/console/.
 */

/** dist/functions/consoleSite.js -> dist/console. */
const ASSETS_DIR = path.resolve(__dirname, '..', 'console');

const easyAuthEnabled = (): boolean => process.env.WEBSITE_AUTH_ENABLED?.toLowerCase() === 'true';

const json = (status: number, body: unknown): HttpResponseInit => ({
  status,
  jsonBody: body,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' },
});

function requireOperator(request: HttpRequest): void {
  callerOf(request.headers, { mode: services().config.mode, easyAuthEnabled: easyAuthEnabled() });
}

async function consolePage(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    requireOperator(request);
    const file = request.params.path ?? '';
    // The page's files are relative to its folder: `/api/console` must become `/api/console/`.
    if (file === '' && !new URL(request.url).pathname.endsWith('/')) {
      return { status: 301, headers: { location: '/api/console/' } };
    }
    const reply = await readConsoleAsset(ASSETS_DIR, file);
    return { status: reply.status, headers: reply.headers, body: reply.body };
  } catch (error) {
    const reply = errorReply(error, context.invocationId);
    if (reply.status >= 500) context.error('consolePage failed:', error);
    return json(reply.status, reply.body);
  }
}

async function consoleSql(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    requireOperator(request);
    const { config } = services();
    if (config.mode !== 'azure') {
      throw new ConsoleSqlError(
        503,
        'SQL_UNAVAILABLE',
        'locally the console server (`lakewatt ui`) sends SQL to the Jobs emulator; the host has no warehouse',
      );
    }
    const reply = await answerStatementRequest(
      {
        method: request.method,
        rest: request.params.rest ?? '',
        headers: request.headers,
        text: () => request.text(),
      },
      {
        workspaceUrl: config.databricks.host,
        warehouseId: config.databricks.sqlWarehouseId,
        catalog: config.databricks.sqlCatalog,
      },
    );
    return {
      status: reply.status,
      body: reply.body,
      headers: { 'content-type': reply.contentType, 'x-content-type-options': 'nosniff' },
    };
  } catch (error) {
    if (error instanceof ConsoleSqlError) return json(error.status, refusalBody(error));
    const reply = errorReply(error, context.invocationId);
    if (reply.status >= 500) context.error('consoleSql failed:', error);
    return json(reply.status, reply.body);
  }
}

// Anonymous at the Functions level for the same reason as the runs API: Easy Auth authenticates in front.
app.http('consolePage', {
  route: 'console/{*path}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: consolePage,
});
app.http('consoleSql', {
  route: '2.0/sql/statements/{*rest}',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: consoleSql,
});
