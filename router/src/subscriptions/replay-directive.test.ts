/**
 * Which subscriptions may share an upstream stream, read from the
 * supergraph's `@replayAfter` marks, however the subgraph imported it.
 */
import { describe, expect, it } from 'vitest';
import type { OperationDefinitionNode } from 'graphql';
import { buildASTSchema, parse } from './graphql.js';
import { ReplayArguments } from './replay-directive.js';

const SPEC = 'https://rental.example/specs/replay/v0.1';

function supergraph(link: string, mark: string): string {
  return `
    schema ${link} { query: Query subscription: Subscription }
    directive @link(url: String, as: String, import: [link__Import]) repeatable on SCHEMA
    scalar link__Import
    directive @${mark} on ARGUMENT_DEFINITION
    type Query { x: Int }
    type Subscription { changes(id: ID, since: Int @${mark}, from: Int = 0 @${mark}): Int  ticks(since: Int): Int }
  `;
}

function sharing(sdl: string, query: string, variables: Record<string, unknown> = {}) {
  const schema = buildASTSchema(parse(sdl), { assumeValidSDL: true });
  const operation = parse(query).definitions[0] as OperationDefinitionNode;
  return ReplayArguments.fromSupergraph(sdl).sharing(schema, operation, variables);
}

describe('ReplayArguments', () => {
  const imported = supergraph(`@link(url: "${SPEC}", import: ["@replayAfter"])`, 'replayAfter');

  it.each([
    ['a literal position', 'subscription { changes(id: "r", since: 3) }', {}, 'replay'],
    ['a position of 0', 'subscription { changes(id: "r", since: 0, from: null) }', {}, 'replay'],
    ['a variable with a value', 'subscription S($v: Int) { changes(id: "r", since: $v, from: null) }', { v: 2 }, 'replay'],
    ['the argument default', 'subscription { changes(id: "r") }', {}, 'replay'],
    ['null positions', 'subscription { changes(id: "r", since: null, from: null) }', {}, 'live'],
    ['a variable without a value', 'subscription S($v: Int) { changes(id: "r", since: $v, from: null) }', {}, 'live'],
    ['an unmarked field', 'subscription { ticks(since: 3) }', {}, 'none'],
  ] as const)('%s → %s', (_name, query, variables, expected) => {
    expect(sharing(imported, query, variables)).toBe(expected);
  });

  it('finds the mark under the name it was imported as, or namespaced when not imported', () => {
    const q = 'subscription { changes(since: 1) }';
    expect(sharing(supergraph(`@link(url: "${SPEC}", import: [{ name: "@replayAfter", as: "@resumable" }])`, 'resumable'), q)).toBe('replay');
    expect(sharing(supergraph(`@link(url: "${SPEC}")`, 'replay__replayAfter'), q)).toBe('replay');
    expect(sharing(supergraph(`@link(url: "${SPEC}", as: "r")`, 'r__replayAfter'), q)).toBe('replay');
  });

  it('a directive of the same name from another spec, or an unparsable supergraph, marks nothing', () => {
    const q = 'subscription { changes(since: 1) }';
    expect(sharing(supergraph('@link(url: "https://example.com/other/v1.0", import: ["@replayAfter"])', 'other__replayAfter'), q)).toBe('none');
    const schema = buildASTSchema(parse(imported), { assumeValidSDL: true });
    expect(ReplayArguments.fromSupergraph('not sdl {').sharing(schema, parse(q).definitions[0] as OperationDefinitionNode, {})).toBe('none');
  });
});
