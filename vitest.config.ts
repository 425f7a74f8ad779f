import { defineConfig } from 'vitest/config';

/**
 * One vitest run for the whole repository. The global setup starts (or
 * reuses, via MONGODB_URI / REDIS_URL) the real MongoDB-compatible and Redis
 * servers once; each test file isolates itself with its own database names
 * and queue prefix.
 */
export default defineConfig({
  test: {
    globalSetup: ['./infra/local/test-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    projects: ['packages/*', 'subgraphs/*', 'router', 'schema', 'infra', 'test'].map((dir) => ({
      extends: true as const,
      test: { name: dir.includes('*') ? undefined : dir, include: [`${dir}/**/*.test.ts`], exclude: ['**/node_modules/**'] },
    })),
  },
});
