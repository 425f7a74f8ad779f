/**
 * Every subgraph folder reads the same (issue 13): the same file for the same
 * role, one config loader, data access as a class per aggregate, tests beside
 * what they test, and a README in one template. A new subgraph, or a rename
 * in one of them, fails here until it follows the layout (or says why not).
 *
 * The role → file table below is the one each README's "Files" section
 * repeats; `infra/build/bundle.ts` relies on the two entries (`src/main.ts`,
 * `src/worker-main.ts`) by name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEPLOYABLES } from '../infra/docker/deployables.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SUBGRAPHS_DIR = path.join(ROOT, 'subgraphs');
const SUBGRAPHS = fs
  .readdirSync(SUBGRAPHS_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/** Role → path inside a subgraph folder (a trailing `/` is a folder). Every subgraph has each. */
const ROLES: Record<string, string> = {
  SDL: 'src/schema.ts',
  resolvers: 'src/resolvers.ts',
  'per-request context': 'src/context.ts',
  'domain rules': 'src/domain/',
  'data access': 'src/data/',
  settings: 'src/config.ts',
  'API server factory': 'src/app.ts',
  'API entry': 'src/main.ts',
  'test helpers': 'src/testing.ts',
  'package exports': 'src/index.ts',
  README: 'README.md',
};

/** The worker's two files: both or neither (items runs no worker). */
const WORKER_ROLES = { 'worker factory': 'src/worker.ts', 'worker entry': 'src/worker-main.ts' };

/** Names the subgraphs used before they were made alike; none may come back. */
const RETIRED = ['src/worker-app.ts', 'src/test-support.ts'];

/** The headings every subgraph README starts with, in this order; sections of its own may follow. */
const README_TEMPLATE = [
  '## What it owns',
  '## Entities and keys',
  '## Queries, mutations and subscriptions',
  '## Events in and out',
  '## Internal (service-only) fields',
  '## Settings',
  '## Files',
];

/**
 * Tests named after a folder beside them that stay where they are, and why.
 * (`src/view.test.ts` would belong in `src/view/`, and so on.)
 */
const TESTS_LEFT_BESIDE_THEIR_FOLDER: Record<string, string> = {
  // Over HTTP: chargePayment and refundPayment (charge.ts, refund.ts), not the providers of payments/.
  'rentals/src/payments.test.ts': 'tests the payment mutations, not src/payments/',
  // The saga is being split into modules by another change; it moves into saga/ after that.
  'reservations/src/saga.test.ts': 'saga/ is being reworked',
};

const exists = (subgraph: string, file: string) => fs.existsSync(path.join(SUBGRAPHS_DIR, subgraph, file));
const read = (subgraph: string, file: string) => fs.readFileSync(path.join(SUBGRAPHS_DIR, subgraph, file), 'utf8');

/** Files under `dir` (relative to it), recursively. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = path.join(dir, d.name);
    return d.isDirectory() ? filesUnder(full).map((f) => `${d.name}/${f}`) : [d.name];
  });
}

describe('subgraph folders', () => {
  it('are the four the system has', () => {
    expect(SUBGRAPHS).toEqual(['items', 'rentals', 'reservations', 'stores']);
  });

  it.each(SUBGRAPHS)('%s has a file for every role, under the same name', (subgraph) => {
    for (const [role, file] of Object.entries(ROLES)) {
      expect(exists(subgraph, file), `${subgraph}: ${role} is ${file}`).toBe(true);
      if (file.endsWith('/')) expect(exists(subgraph, `${file}index.ts`), `${subgraph}: ${file} exports through index.ts`).toBe(true);
    }
    for (const file of RETIRED) expect(exists(subgraph, file), `${subgraph}: ${file} is an old name`).toBe(false);
  });

  it.each(SUBGRAPHS)('%s has a worker factory and a worker entry together, exactly when it deploys a worker', (subgraph) => {
    const [factory, entry] = [exists(subgraph, WORKER_ROLES['worker factory']), exists(subgraph, WORKER_ROLES['worker entry'])];
    expect(entry, `${subgraph}: src/worker.ts and src/worker-main.ts go together`).toBe(factory);
    const deployed = DEPLOYABLES.filter((d) => d.kind === 'worker' && d.workspace === `subgraphs/${subgraph}`);
    expect(deployed.length > 0, `${subgraph}: a worker deployable in infra/docker/deployables.ts`).toBe(entry);
    for (const d of deployed) expect(d.entry).toBe('dist/worker-main.js');
  });

  it.each(SUBGRAPHS)('%s reads its config through loadConfig(<name>ConfigShape) from @rental/config, in each entry', (subgraph) => {
    const shape = `${subgraph}ConfigShape`;
    expect(read(subgraph, 'src/config.ts')).toMatch(new RegExp(`export const ${shape} = \\{`));
    // One loader for all: no `loadXConfig` wrapper of its own.
    expect(read(subgraph, 'src/config.ts')).not.toMatch(/export function load/);
    for (const entry of ['src/main.ts', WORKER_ROLES['worker entry']].filter((f) => exists(subgraph, f))) {
      const code = read(subgraph, entry);
      expect(code, `${subgraph}/${entry}`).toMatch(/import \{[^}]*\bloadConfig\b[^}]*\} from '@rental\/config'/);
      expect(code, `${subgraph}/${entry}`).toContain(`loadConfig(${shape})`);
    }
  });

  it.each(SUBGRAPHS)('%s accesses its data through a class per aggregate (src/data/*-data.ts), not free functions', (subgraph) => {
    const dataFiles = fs.readdirSync(path.join(SUBGRAPHS_DIR, subgraph, 'src/data')).filter((f) => f.endsWith('-data.ts'));
    expect(dataFiles.length, `${subgraph}: src/data/<aggregate>-data.ts`).toBeGreaterThan(0);
    for (const file of dataFiles) {
      const code = read(subgraph, `src/data/${file}`);
      expect(code, `${subgraph}/src/data/${file} exports a …Data class`).toMatch(/^export class \w+Data\b/m);
      expect(code, `${subgraph}/src/data/${file}: data access is a method of the class`).not.toMatch(/^export async function/m);
    }
  });

  it.each(SUBGRAPHS)('%s keeps each test beside what it tests (no src/<x>.test.ts next to a src/<x>/ folder)', (subgraph) => {
    const src = path.join(SUBGRAPHS_DIR, subgraph, 'src');
    const misplaced = filesUnder(src)
      .filter((f) => f.endsWith('.test.ts'))
      .filter((f) => fs.existsSync(path.join(src, f.replace(/\.test\.ts$/, ''))))
      .map((f) => `${subgraph}/src/${f}`)
      .filter((f) => !(f in TESTS_LEFT_BESIDE_THEIR_FOLDER));
    expect(misplaced).toEqual([]);
  });

  it('lists only exceptions that still exist', () => {
    for (const file of Object.keys(TESTS_LEFT_BESIDE_THEIR_FOLDER)) expect(fs.existsSync(path.join(SUBGRAPHS_DIR, file)), file).toBe(true);
  });

  it.each(SUBGRAPHS)('%s has a README in the template, whose Files table names every role', (subgraph) => {
    const readme = read(subgraph, 'README.md');
    const headings = readme.split('\n').filter((l) => l.startsWith('## '));
    expect(headings.slice(0, README_TEMPLATE.length), `${subgraph}/README.md starts with the template's sections`).toEqual(README_TEMPLATE);
    const files = readme.slice(readme.indexOf('\n## Files\n'));
    for (const [role, file] of Object.entries({ ...ROLES, ...WORKER_ROLES })) {
      if (role === 'README') continue;
      const row = files.split('\n').find((l) => l.startsWith(`| ${role}`));
      expect(row, `${subgraph}/README.md: a "${role}" row in Files`).toBeDefined();
      if (exists(subgraph, file)) expect(row, `${subgraph}/README.md: ${role} is ${file}`).toContain(`\`${file}\``);
    }
  });
});
