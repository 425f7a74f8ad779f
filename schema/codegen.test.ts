/**
 * The committed generated types (`codegen.ts`) must be what GraphQL Code
 * Generator produces from the schema files and the documents now; otherwise
 * run `npm run codegen`. Generates in memory (nothing is written), in about
 * two seconds.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config, { GENERATED_HEADER } from '../codegen.js';
import { REPO_ROOT } from './compose.js';

interface Output {
  filename: string;
  content: string;
}

/** The generated files that differ from `outputs` under `root`: changed, missing, or left in a generated folder that nothing produces. */
function staleGenerated(outputs: Output[], root = REPO_ROOT): string[] {
  const expected = new Map(outputs.map((o) => [relative(root, resolve(root, o.filename)), o.content]));
  const stale: string[] = [];
  for (const [file, content] of expected) {
    const path = join(root, file);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== content) stale.push(file);
  }
  for (const dir of new Set([...expected.keys()].map((f) => dirname(f)))) {
    for (const name of readdirSync(join(root, dir))) {
      const file = join(dir, name);
      if (!expected.has(file)) stale.push(file);
    }
  }
  return stale.sort();
}

const outputs: Output[] = await generate({ ...config, cwd: REPO_ROOT, silent: true }, false);

describe('generated GraphQL types', () => {
  it('are up to date with the schemas and documents (run npm run codegen)', () => {
    expect(outputs.length).toBe(Object.keys(config.generates).length);
    const stale = staleGenerated(outputs);
    expect(stale, `stale generated files: ${stale.join(', ')} — run npm run codegen`).toEqual([]);
  });

  it('start with the generated-file header', () => {
    for (const o of outputs) expect(o.content.startsWith(`${GENERATED_HEADER}\n`), o.filename).toBe(true);
  });

  it('detects a hand-edited, missing or orphaned file', () => {
    const file = 'subgraphs/reservations/src/generated/items.ts';
    const others = outputs.filter((o) => relative(REPO_ROOT, resolve(REPO_ROOT, o.filename)) !== file);
    const mine = outputs.find((o) => relative(REPO_ROOT, resolve(REPO_ROOT, o.filename)) === file)!;
    expect(others).toHaveLength(outputs.length - 1);
    expect(staleGenerated([...others, { ...mine, content: `${mine.content}// edited\n` }])).toEqual([file]);
    expect(staleGenerated([...outputs, { filename: 'web/src/generated/missing.ts', content: '' }])).toEqual(['web/src/generated/missing.ts']);
    // Its folder still holds what another output writes (rentals.ts), so the file left there is found.
    expect(staleGenerated(others)).toEqual([file]);
  });
});
