import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

import { REPO_ROOT } from './bicep';

/** The Function App's entry points (package.json `main`: dist/{functions,orchestrations}/*.js), as sources. */
function entryPoints(): string[] {
  return ['functions', 'orchestrations'].flatMap((dir) =>
    readdirSync(path.join(REPO_ROOT, dir))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => path.join(REPO_ROOT, dir, name)),
  );
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|require\('([^']+)'\)|import\('([^']+)'\)|(?:^|\n)import\s+'([^']+)'/g;

function resolveSource(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')])
    if (existsSync(candidate)) return candidate;
  throw new Error(`${path.relative(REPO_ROOT, from)}: cannot resolve '${specifier}'`);
}

/** Every source file the entry points reach through relative imports, and the packages they import. */
function shippedGraph(): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = entryPoints();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3] ?? match[4]!;
      if (specifier.startsWith('.')) pending.push(resolveSource(file, specifier));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
  }
  return { files, packages };
}

const packageJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const funcignore = readFileSync(path.join(REPO_ROOT, '.funcignore'), 'utf8').split('\n').filter(Boolean);

describe('what the Function App package ships', () => {
  const graph = shippedGraph();
  const shipped = [...graph.files].map((file) => path.relative(REPO_ROOT, file));

  it('when the entry points are followed through their imports, then they reach neither local/ nor the simulator', () => {
    expect(shipped.length).toBeGreaterThan(10);
    expect(shipped.filter((file) => /^local\/|^lib\/simulator\//.test(file))).toEqual([]);
  });

  it('when the shipped code imports a package, then it is a production dependency, and local-only ones are not', () => {
    expect([...graph.packages].filter((name) => !(name in packageJson.dependencies))).toEqual([]);
    expect(['better-sqlite3', 'commander'].filter((name) => name in packageJson.dependencies)).toEqual([]);
  });

  it('when the package is assembled, then .funcignore leaves out local/, the simulator, tests and benchmarks', () => {
    expect(funcignore).toEqual(
      expect.arrayContaining(['local', 'dist/local', 'dist/lib/simulator', 'test', 'bench']),
    );
  });

  it('when the package is assembled, then it ships the built console and leaves out its sources', () => {
    const excludes = (file: string): boolean =>
      funcignore.some((pattern) => {
        const anchored = pattern.startsWith('/');
        const body = pattern.replace(/^\//, '').replace(/\/$/, '');
        const glob = new RegExp(
          `^${body.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(?:/|$)`,
        );
        const parts = file.split('/');
        return anchored ? glob.test(file) : parts.some((_, i) => glob.test(parts.slice(i).join('/')));
      });

    expect(
      ['dist/console/index.html', 'dist/console/main.js', 'dist/console/main.css'].filter(excludes),
    ).toEqual([]);
    expect(excludes('console/src/main.tsx')).toBe(true);
    expect(excludes('console/index.html')).toBe(true);
  });
});
