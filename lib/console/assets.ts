import { access, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The operations console's static files (dist/console, built by local/console/build.ts) as both servers
 * answer them: the local console server (local/console/server.ts) and the Function App's `console/` route
 * (functions/consoleSite.ts). A request path names one file of the folder, flat: anything else (a folder,
 * `..`, a backslash, an encoded separator, an unknown extension) is refused before the file system is asked.
 */

/** The page loads only its own script and stylesheet and talks only to its own origin. */
export const CONSOLE_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** One flat file name: letters, digits, `_`, `-`, dots inside (so never `.` or `..`). */
const FILE_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$/;

export type ConsoleAsset =
  | { kind: 'file'; file: string; contentType: string }
  | { kind: 'refused'; code: 'ASSET_PATH_INVALID' | 'ASSET_TYPE_UNKNOWN'; message: string };

/**
 * The file a request path (relative to the console's root, without the leading `/`) names: the empty path
 * is index.html.
 */
export function consoleAsset(requestPath: string): ConsoleAsset {
  const name = requestPath === '' ? 'index.html' : requestPath;
  if (!FILE_NAME.test(name)) {
    return {
      kind: 'refused',
      code: 'ASSET_PATH_INVALID',
      message: `the console has no file ${JSON.stringify(requestPath.slice(0, 100))}: it serves flat file names only`,
    };
  }
  const contentType = CONTENT_TYPES[path.extname(name).toLowerCase()];
  if (!contentType) {
    return { kind: 'refused', code: 'ASSET_TYPE_UNKNOWN', message: `the console serves no ${name}` };
  }
  return { kind: 'file', file: name, contentType };
}

export interface AssetReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

const text = (status: number, body: string): AssetReply => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', ...CONSOLE_PAGE_HEADERS },
  body,
});

/** The reply to a GET of a request path: the file with the page headers, 404, or 503 when the page is not built. */
export async function readConsoleAsset(assetsDir: string, requestPath: string): Promise<AssetReply> {
  const asset = consoleAsset(requestPath);
  if (asset.kind === 'refused') return text(404, `${asset.code}: ${asset.message}\n`);
  try {
    const body = await readFile(path.join(assetsDir, asset.file));
    return { status: 200, headers: { 'content-type': asset.contentType, ...CONSOLE_PAGE_HEADERS }, body };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // A missing file of a built page is a 404; a missing index.html means the page was never built.
    if (asset.file !== 'index.html' && (await exists(path.join(assetsDir, 'index.html')))) {
      return text(404, `ASSET_NOT_FOUND: the console serves no ${asset.file}\n`);
    }
    return text(503, `The console is not built (no ${asset.file} in ${assetsDir}): run \`make build\`.\n`);
  }
}

const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );
