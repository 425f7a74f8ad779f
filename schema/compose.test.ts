/**
 * The checked-in SDL files and supergraph must be what the subgraphs' code
 * produces; otherwise run `npm run compose`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, type DocumentNode } from 'graphql';
import {
  CompositionFailed,
  composeFromSources,
  composeSupergraph,
  loadSubgraphSources,
  staleFiles,
  writeComposed,
} from './compose.js';

const tmp = mkdtempSync(join(tmpdir(), 'compose-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function withExtraField(typeDefs: DocumentNode): DocumentNode {
  const extra = parse('extend type Query { staleProbe: Int }');
  return { ...typeDefs, definitions: [...typeDefs.definitions, ...extra.definitions] };
}

describe('schema/*.graphql', () => {
  it('is up to date with the subgraphs (run npm run compose)', async () => {
    const composed = await composeSupergraph();
    expect(composed.subgraphs.length).toBeGreaterThan(0);
    const stale = staleFiles(composed);
    expect(stale, `stale schema files: ${stale.join(', ')} — run npm run compose`).toEqual([]);
  });

  it('detects a subgraph schema changed without recomposing', async () => {
    const sources = await loadSubgraphSources();
    const composed = composeFromSources(sources);
    writeComposed(composed, tmp);
    expect(staleFiles(composed, tmp)).toEqual([]);

    const [first, ...rest] = sources;
    const changed = composeFromSources([{ ...first!, typeDefs: withExtraField(first!.typeDefs) }, ...rest]);
    expect(changed.supergraphSdl).toContain('staleProbe');
    expect(staleFiles(changed, tmp)).toEqual([`${first!.name}.graphql`, 'supergraph.graphql'].sort());
  });

  it('detects an obsolete or hand-edited file', async () => {
    const composed = composeFromSources(await loadSubgraphSources());
    writeComposed(composed, tmp);
    writeFileSync(join(tmp, 'supergraph.graphql'), composed.supergraphSdl + '# edited\n');
    writeFileSync(join(tmp, 'gone.graphql'), 'type Query { x: Int }\n');
    expect(staleFiles(composed, tmp)).toEqual(['gone.graphql', 'supergraph.graphql']);
  });

  it('reports composition errors', () => {
    const a = parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Query { thing: Thing }
      type Thing @key(fields: "id") { id: ID! size: Int }
    `);
    const b = parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Query { other: Thing }
      type Thing @key(fields: "id") { id: ID! size: String }
    `);
    expect(() =>
      composeFromSources([
        { name: 'a', url: 'http://a/graphql', typeDefs: a },
        { name: 'b', url: 'http://b/graphql', typeDefs: b },
      ]),
    ).toThrow(CompositionFailed);
  });
});
