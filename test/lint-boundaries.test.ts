/**
 * The import boundaries of eslint.config.js (docs/ARCHITECTURE.md, "Layout")
 * do what they say: small snippets linted as if they were files of the
 * repository, through ESLint's Node API and the repository's own config.
 *
 * The boundary rules need no types, so these run with the type-aware parsing
 * turned off (typescript-eslint's `disableTypeChecked`, laid over the
 * config): a snippet then costs milliseconds instead of building the
 * TypeScript program of its folder. One case keeps the real config to show
 * that the type-aware rules run too.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const boundaries = new ESLint({ cwd: REPO, overrideConfig: tseslint.configs.disableTypeChecked });

/** `ruleId: message` of every problem ESLint reports for `code` as the file `filePath`. */
async function problems(filePath: string, code: string, eslint = boundaries): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

const RESTRICTED_PATH = 'import-x/no-restricted-paths';
const GRAPHQL_REALM = '@typescript-eslint/no-restricted-imports';

describe('a subgraph imports only packages and its own folder', () => {
  it('another subgraph, by relative path: error', async () => {
    const found = await problems('subgraphs/items/src/x.ts', "import { startReservations } from '../../reservations/src/app.js';\nexport const a = startReservations;\n");
    expect(found).toEqual([expect.stringContaining(RESTRICTED_PATH)]);
    expect(found[0]).toContain('subgraphs talk over GraphQL or events');
  });

  it('another subgraph, by package name: error', async () => {
    expect(await problems('subgraphs/stores/src/x.ts', "import { startRentals } from '@rental/rentals';\nexport const a = startRentals;\n")).toEqual([
      expect.stringContaining(RESTRICTED_PATH),
    ]);
  });

  it('@rental/auth and its own files: no error', async () => {
    const code = "import { requireRole } from '@rental/auth';\nimport { itemsConfigShape } from './config.js';\nexport const a = [requireRole, itemsConfigShape];\n";
    expect(await problems('subgraphs/items/src/x.ts', code)).toEqual([]);
  });

  it('the router, infra or test: error', async () => {
    for (const from of ['../../../router/src/index.js', '../../../infra/local/ports.js', '../../../test/support/stack.js']) {
      expect(await problems('subgraphs/items/src/x.ts', `import * as m from '${from}';\nexport const a = m;\n`), from).toEqual([
        expect.stringContaining(RESTRICTED_PATH),
      ]);
    }
  });

  it('a test may start another subgraph through its package, and use infra/local, but not reach into its files', async () => {
    const ok = "import { startItems } from '@rental/items';\nimport { freePort } from '../../../infra/local/ports.js';\nexport const a = [startItems, freePort];\n";
    expect(await problems('subgraphs/reservations/src/x.test.ts', ok)).toEqual([]);
    const deep = "import { startItems } from '../../items/src/app.js';\nexport const a = startItems;\n";
    expect(await problems('subgraphs/reservations/src/x.test.ts', deep)).toEqual([expect.stringContaining(RESTRICTED_PATH)]);
  });
});

describe('the router knows no domain', () => {
  it('importing a subgraph: error', async () => {
    expect(await problems('router/src/x.ts', "import { startItems } from '@rental/items';\nexport const a = startItems;\n")).toEqual([
      expect.stringContaining(RESTRICTED_PATH),
    ]);
  });

  it('a router test fixture on @rental/subgraph-server: no error', async () => {
    const code = "import { startSubgraph } from '@rental/subgraph-server';\nimport { signUserToken } from '@rental/auth';\nexport const a = [startSubgraph, signUserToken];\n";
    expect(await problems('router/src/x-fixtures.ts', code)).toEqual([]);
  });
});

describe('graphql-js reaches the router through one module', () => {
  it('a value from graphql anywhere else: error', async () => {
    expect(await problems('router/src/x.ts', "import { parse } from 'graphql';\nexport const a = parse;\n")).toEqual([
      expect.stringContaining(GRAPHQL_REALM),
    ]);
    expect(await problems('router/src/limits/x.test.ts', "import { Kind } from 'graphql/language/index.js';\nexport const a = Kind;\n")).toEqual([
      expect.stringContaining(GRAPHQL_REALM),
    ]);
  });

  it('the module itself, values through it, and type-only imports: no error', async () => {
    expect(await problems('router/src/x.ts', "import { parse } from './subscriptions/graphql.js';\nexport const a = parse;\n")).toEqual([]);
    expect(await problems('router/src/x.ts', "import type { DocumentNode } from 'graphql';\nexport type A = DocumentNode;\n")).toEqual([]);
    const own = "import { createRequire } from 'node:module';\nimport { parse } from 'graphql';\nexport const a = [createRequire, parse];\n";
    expect(await problems('router/src/subscriptions/graphql.ts', own)).toEqual([]);
  });

  it('a subgraph may import graphql', async () => {
    expect(await problems('subgraphs/items/src/x.ts', "import { GraphQLError } from 'graphql';\nexport const a = GraphQLError;\n")).toEqual([]);
  });
});

describe('the web client imports no server code', () => {
  it('@rental/events, a subgraph or the router: error', async () => {
    for (const from of ['@rental/events', '@rental/auth', '../../subgraphs/items/src/index.js', '../../router/src/index.js']) {
      expect(await problems('web/src/x.ts', `import * as m from '${from}';\nexport const a = m;\n`), from).toEqual([
        expect.stringContaining(RESTRICTED_PATH),
      ]);
    }
  });

  it('the dev server may use @rental/auth and @rental/config, nothing else of the server', async () => {
    const ok = "import { signUserToken } from '@rental/auth';\nimport { loadConfig } from '@rental/config';\nexport const a = [signUserToken, loadConfig];\n";
    expect(await problems('web/x.ts', ok)).toEqual([]);
    expect(await problems('web/x.ts', "import { EventBus } from '@rental/events';\nexport const a = EventBus;\n")).toEqual([
      expect.stringContaining(RESTRICTED_PATH),
    ]);
  });

  it('the client does not import the dev server', async () => {
    expect(await problems('web/src/x.ts', "import { startWebServer } from '../serve.ts';\nexport const a = startWebServer;\n")).toEqual([
      expect.stringContaining(RESTRICTED_PATH),
    ]);
  });
});

describe('the type-aware rules run with the real config', () => {
  it('a floating promise in a package is an error', async () => {
    // The project service finds only files that exist: the snippet stands in
    // for a real file's text (nothing is written).
    const typed = new ESLint({ cwd: REPO });
    const code = 'export async function later(): Promise<number> {\n  return 1;\n}\nexport function now(): void {\n  later();\n}\n';
    expect(await problems('packages/errors/src/index.ts', code, typed)).toEqual([expect.stringContaining('@typescript-eslint/no-floating-promises')]);
  }, 60_000);
});
