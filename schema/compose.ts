/**
 * `npm run compose`: prints each subgraph's SDL from its code into
 * `schema/<name>.graphql`, composes them with `@apollo/composition` and
 * writes `schema/supergraph.graphql`. Composition hints are printed;
 * composition errors exit 1.
 *
 * A subgraph takes part when `subgraphs/<name>/src/index.ts` exists and
 * exports `typeDefs`. The URLs written into the supergraph are the local
 * defaults; the router's `SUBGRAPH_URLS` overrides them per deployment.
 *
 * `composeSupergraph()` does the same without writing (the stale test uses it).
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import { parse, type DocumentNode } from 'graphql';

export const SCHEMA_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(SCHEMA_DIR, '..');
export const SUPERGRAPH_FILE = 'supergraph.graphql';

/** The subgraphs, in composition order, with their local default URLs. */
export const SUBGRAPHS: ReadonlyArray<{ name: string; url: string }> = [
  { name: 'items', url: 'http://localhost:4001/graphql' },
  { name: 'reservations', url: 'http://localhost:4002/graphql' },
  { name: 'stores', url: 'http://localhost:4003/graphql' },
  { name: 'rentals', url: 'http://localhost:4004/graphql' },
];

export interface SubgraphSource {
  name: string;
  url: string;
  typeDefs: DocumentNode;
}

export interface ComposedSupergraph {
  subgraphs: Array<{ name: string; sdl: string }>;
  supergraphSdl: string;
  hints: string[];
}

export class CompositionFailed extends Error {
  constructor(readonly errors: string[]) {
    super(`Composition failed:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'CompositionFailed';
  }
}

/** Imports `typeDefs` of every subgraph whose package exists. */
export async function loadSubgraphSources(root = REPO_ROOT): Promise<SubgraphSource[]> {
  const sources: SubgraphSource[] = [];
  for (const { name, url } of SUBGRAPHS) {
    const entry = join(root, 'subgraphs', name, 'src', 'index.ts');
    if (!existsSync(entry)) continue;
    const mod = (await import(pathToFileURL(entry).href)) as { typeDefs?: DocumentNode };
    if (!mod.typeDefs) throw new Error(`subgraphs/${name}/src/index.ts does not export typeDefs`);
    sources.push({ name, url, typeDefs: mod.typeDefs });
  }
  return sources;
}

/** Prints each subgraph's SDL from its type definitions and composes them (throws {@link CompositionFailed}). */
export function composeFromSources(sources: SubgraphSource[]): ComposedSupergraph {
  if (sources.length === 0) throw new CompositionFailed(['no subgraph found (subgraphs/<name>/src/index.ts exporting typeDefs)']);
  const subgraphs = sources.map((s) => ({
    name: s.name,
    url: s.url,
    sdl: printSubgraphSchema(buildSubgraphSchema({ typeDefs: s.typeDefs })).trimEnd() + '\n',
  }));
  // Compose from the printed SDL, so the supergraph follows from exactly what is checked in.
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
  const hints = (result.hints ?? []).map((h) => `${h.definition.code}: ${h.message}`);
  if (result.errors) throw new CompositionFailed(result.errors.map((e) => e.message));
  return {
    subgraphs: subgraphs.map(({ name, sdl }) => ({ name, sdl })),
    supergraphSdl: result.supergraphSdl.trimEnd() + '\n',
    hints,
  };
}

/** Composes the supergraph from the subgraphs' code, writing nothing. */
export async function composeSupergraph(root = REPO_ROOT): Promise<ComposedSupergraph> {
  return composeFromSources(await loadSubgraphSources(root));
}

/** The files `composed` would write, by file name. */
export function expectedFiles(composed: Pick<ComposedSupergraph, 'subgraphs' | 'supergraphSdl'>): Map<string, string> {
  const files = new Map<string, string>();
  for (const s of composed.subgraphs) files.set(`${s.name}.graphql`, s.sdl);
  files.set(SUPERGRAPH_FILE, composed.supergraphSdl);
  return files;
}

/**
 * The checked-in files in `dir` that differ from `composed`: changed or
 * missing files, and `.graphql` files no subgraph produces any more.
 */
export function staleFiles(composed: Pick<ComposedSupergraph, 'subgraphs' | 'supergraphSdl'>, dir = SCHEMA_DIR): string[] {
  const expected = expectedFiles(composed);
  const stale: string[] = [];
  for (const [file, content] of expected) {
    const path = join(dir, file);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== content) stale.push(file);
  }
  for (const file of readdirSync(dir)) {
    if (file.endsWith('.graphql') && !expected.has(file)) stale.push(file);
  }
  return stale.sort();
}

/** Writes the composed files into `dir`. */
export function writeComposed(composed: ComposedSupergraph, dir = SCHEMA_DIR): string[] {
  const written: string[] = [];
  for (const [file, content] of expectedFiles(composed)) {
    writeFileSync(join(dir, file), content);
    written.push(file);
  }
  return written;
}

async function main(): Promise<void> {
  let composed: ComposedSupergraph;
  try {
    composed = await composeSupergraph();
  } catch (err) {
    console.error(err instanceof CompositionFailed ? err.message : err);
    process.exit(1);
  }
  for (const hint of composed.hints) console.warn(`hint: ${hint}`);
  const orphans = staleFiles(composed).filter((f) => !expectedFiles(composed).has(f));
  for (const f of orphans) console.warn(`note: schema/${f} is not produced by any subgraph; delete it if it is obsolete`);
  for (const file of writeComposed(composed)) console.log(`wrote schema/${file}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
