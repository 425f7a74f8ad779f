// @ts-check
/**
 * One ESLint config for the whole repository. Each workspace runs `eslint src`
 * (web: `eslint .`) and the root runs `eslint infra schema test`; all of them
 * find this file. docs/ARCHITECTURE.md ("Layout") says what the boundary
 * rules below enforce.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import globals from 'globals';

const root = import.meta.dirname;
const subgraphs = readdirSync(join(root, 'subgraphs'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

/** Test code: the files vitest runs and the helpers only they import. */
const testFiles = ['**/*.test.ts', '**/*fixtures*.ts', '**/testing.ts', 'test/**', 'web/e2e/**'];

/** Top-level folders that no deployable's runtime code may import. */
const notForDeployables = ['./web', './infra', './test', './bench', './schema'];

/** `import-x/no-restricted-paths` zones; paths are relative to the repository root. */
const zones = {
  /** @param {string} name @param {{ test: boolean }} kind */
  subgraph: (name, { test }) => [
    {
      target: `./subgraphs/${name}`,
      from: './subgraphs',
      // Tests may start another subgraph for real, through its package entry
      // (`@rental/items`, a devDependency), never by reaching into its files.
      except: [`./${name}`, ...(test ? subgraphs.filter((s) => s !== name).map((s) => `./${s}/src/index.ts`) : [])],
      message: 'A subgraph imports only @rental/* packages and its own folder: subgraphs talk over GraphQL or events.',
    },
    {
      target: `./subgraphs/${name}`,
      from: ['./router', ...notForDeployables.filter((d) => !(test && d === './infra'))],
      message: 'A subgraph imports only @rental/* packages and its own folder.',
    },
    // The local servers harness (a database that can be stopped mid-test) is for tests only.
    ...(test ? [{ target: `./subgraphs/${name}`, from: './infra', except: ['./local'], message: 'Subgraph tests may use infra/local only.' }] : []),
  ],
  router: [
    {
      target: './router',
      from: ['./subgraphs', ...notForDeployables],
      message: 'The router knows no domain: it imports no subgraph (nor web, infra, test); packages only.',
    },
  ],
  packages: [
    {
      target: './packages',
      from: ['./subgraphs', './router', ...notForDeployables],
      message: 'Shared packages depend on nothing but other packages.',
    },
  ],
  webClient: [
    {
      target: './web/src',
      from: ['./packages', './subgraphs', './router', ...notForDeployables.filter((d) => d !== './web')],
      message: 'The web client is browser code: no @rental/* server package, subgraph, router or infra.',
    },
    {
      target: './web/src',
      from: './web',
      except: ['./src'],
      message: 'The web client does not import the dev server, build scripts or e2e tests.',
    },
  ],
  webServer: [
    {
      target: './web',
      from: './packages',
      except: ['./auth', './config'],
      message: 'The web dev/static server may use @rental/auth and @rental/config only.',
    },
    {
      target: './web',
      from: ['./subgraphs', './router', './infra', './test', './bench', './schema'],
      message: 'The web dev/static server imports no subgraph, router or infra code.',
    },
  ],
};

/** @param {object[]} z @returns {import('eslint').Linter.RulesRecord} */
const restrictedPaths = (z) => ({ 'import-x/no-restricted-paths': ['error', { basePath: root, zones: z }] });

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // Type-aware rules: each file is checked within the tsconfig.json nearest to it.
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    plugins: { 'import-x': importX },
    settings: {
      // Resolves `.js` specifiers to their `.ts` sources and `@rental/*` through the workspace links.
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true, bun: false })],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-console': 'off',
      // graphql-ws types `dispose()` as `void | Promise<void>`: awaiting such
      // values with Promise.all is right, so mixed arrays are allowed; an
      // array of only non-promises is still an error.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      // Off: `async` without `await` is how this code meets Promise-returning
      // contracts (Apollo Server plugin hooks, readiness checks, a fetch
      // Response's `json()`), and it turns a throw into a rejection; removing
      // it, as the rule asks, would make those throw synchronously instead.
      '@typescript-eslint/require-await': 'off',
      // Off: graphql-js's `Kind`/`OperationTypeNode` are string enums that we
      // compare with their literal values (`d.kind === 'FragmentDefinition'`),
      // which keeps value imports of graphql out of the router (one realm,
      // below); mongoose's `readyState` is compared with its documented numbers.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // A promise returned inside try/catch without `await` escapes the catch.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // A `switch` over a union (event types, statuses) must name every member or have a default.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    // Test code reads untyped wire data on purpose (JSON bodies, raw documents,
    // WebSocket frames) and its assertions check the shapes; the no-unsafe-*
    // rules would only ask for casts there. They stay on for all other code.
    files: testFiles,
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Plain JavaScript files (scripts, container helpers) run on Node and are in no tsconfig.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },

  // ---- Import boundaries -------------------------------------------------
  ...subgraphs.flatMap((name) => [
    { files: [`subgraphs/${name}/**/*.ts`], ignores: testFiles, rules: restrictedPaths(zones.subgraph(name, { test: false })) },
    { files: testFiles.map((g) => `subgraphs/${name}/${g}`), rules: restrictedPaths(zones.subgraph(name, { test: true })) },
  ]),
  { files: ['router/**/*.ts'], rules: restrictedPaths(zones.router) },
  { files: ['packages/**/*.ts'], rules: restrictedPaths(zones.packages) },
  { files: ['web/src/**/*.{ts,tsx}'], rules: restrictedPaths(zones.webClient) },
  // The dev server (`serve.ts`, `local-token.ts` signs local-only tokens),
  // the Vite config and the build script run on Node, never in the bundle.
  // web/e2e/ drives the whole stack like test/ and has no boundary.
  { files: ['web/*.ts'], rules: restrictedPaths(zones.webServer) },
  {
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },

  // ---- graphql-js in one realm (router/src/subscriptions/graphql.ts) ------
  {
    files: ['router/**/*.ts'],
    ignores: ['router/src/subscriptions/graphql.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'graphql',
              allowTypeImports: true,
              message: "Import graphql-js values from router/src/subscriptions/graphql.ts (one realm for instanceof checks); `import type` from 'graphql' is fine.",
            },
          ],
          patterns: [
            {
              group: ['graphql/*'],
              allowTypeImports: true,
              message: 'Import graphql-js values from router/src/subscriptions/graphql.ts (one realm for instanceof checks).',
            },
          ],
        },
      ],
    },
  },
);
