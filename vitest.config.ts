import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * One vitest run for the whole repository. The global setup starts (or
 * reuses, via MONGODB_URI / REDIS_URL) the real MongoDB-compatible and Redis
 * servers once; each test file isolates itself with its own database names
 * and queue prefix.
 *
 * Projects are found, not listed: every workspace folder plus the folders of
 * repository-level tests. A workspace project is named after its package
 * (`@rental/items`), so `npm test -w @rental/items` can select it.
 */
const workspaceDirs = ['packages', 'subgraphs'].flatMap((root) =>
  existsSync(root) ? readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${root}/${d.name}`) : [],
);
const dirs = [...workspaceDirs, 'router', 'web', 'bench', 'schema', 'infra', 'test'].filter((dir) => existsSync(dir));

function projectName(dir: string): string {
  const manifest = join(dir, 'package.json');
  if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name;
  return dir;
}

export default defineConfig({
  test: {
    globalSetup: ['./infra/local/test-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One test file at a time: an end-to-end file starts four subgraphs, three
    // workers and a router beside the shared database and Redis, and the suite
    // asserts user-visible latencies (a subscription push within 1 s). On our
    // 2-core machines two such files at once starve each other; serially the
    // whole suite still runs in a few minutes.
    maxWorkers: 1,
    projects: dirs.map((dir) => ({
      extends: true as const,
      test: { name: projectName(dir), include: [`${dir}/**/*.test.ts`], exclude: ['**/node_modules/**'] },
    })),
  },
});
