import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { build } from 'esbuild';

import { findRepoRoot } from '../databricks/emulator';

/**
 * Bundles the operations console (console/src, Preact + uPlot) with esbuild into one ES module, one
 * stylesheet and index.html: `dist/console/` by default. `make build` runs it (node
 * dist/local/console/build.js); the browser test builds into its own folder so it always tests the source.
 */

export interface ConsoleBuild {
  outDir: string;
  /** Each output file with its size and gzip size in bytes. */
  files: Array<{ name: string; bytes: number; gzipBytes: number }>;
  ms: number;
}

export const CONSOLE_FILES = ['index.html', 'main.js', 'main.css'] as const;

export async function buildConsole(
  options: { repoRoot?: string; outDir?: string; minify?: boolean } = {},
): Promise<ConsoleBuild> {
  const started = performance.now();
  const root = options.repoRoot ?? findRepoRoot();
  const outDir = path.resolve(options.outDir ?? path.join(root, 'dist', 'console'));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: [
      { in: 'console/src/main.tsx', out: 'main' },
      { in: 'console/src/main.css', out: 'main' },
    ],
    outdir: outDir,
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(root, 'console', 'tsconfig.json'),
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(path.join(root, 'console', 'index.html'), path.join(outDir, 'index.html'));
  const files = CONSOLE_FILES.map((name) => {
    const data = readFileSync(path.join(outDir, name));
    return { name, bytes: data.length, gzipBytes: gzipSync(data, { level: 9 }).length };
  });
  return { outDir, files, ms: performance.now() - started };
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

if (require.main === module) {
  buildConsole().then(
    (result) => {
      const sizes = result.files.map((f) => `${f.name} ${kb(f.bytes)} (${kb(f.gzipBytes)} gzip)`).join(', ');
      process.stdout.write(`console: ${sizes} in ${Math.round(result.ms)} ms -> ${result.outDir}\n`);
    },
    (error: unknown) => {
      process.stderr.write(
        `console build failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
