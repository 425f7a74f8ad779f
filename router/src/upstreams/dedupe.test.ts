/**
 * Identical subgraph queries in flight share one fetch, through the real
 * router to a real subgraph that counts what reaches it: a burst of one
 * caller's query is one call; other callers, other variables and mutations
 * are never merged; and every caller still gets the whole answer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from '../subscriptions/graphql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSubgraph, type BaseContext, type RunningSubgraph } from '@rental/subgraph-server';
import { startRouter, type RunningRouter } from '../app.js';
import { fixtureSubgraph, gqlRequest, routerConfig, token } from '../test-fixtures.js';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { echo(text: String!, ms: Int!): Echo! }
  type Mutation { bump(ms: Int!): Int! }
  type Echo { text: String! caller: String! }
`);

let calls = { echo: 0, bump: 0 };
let subgraph: RunningSubgraph;
let router: RunningRouter;
let dir: string;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  subgraph = await startSubgraph({
    ...fixtureSubgraph,
    name: 'echo',
    typeDefs,
    resolvers: {
      Query: {
        echo: async (_: unknown, { text, ms }: { text: string; ms: number }, ctx: BaseContext) => {
          calls.echo += 1;
          await pause(ms);
          return { text, caller: ctx.identity.sub };
        },
      },
      Mutation: {
        bump: async (_: unknown, { ms }: { ms: number }) => {
          calls.bump += 1;
          const mine = calls.bump;
          await pause(ms);
          return mine;
        },
      },
    },
  });
  const composed = composeServices([{ name: 'echo', url: subgraph.url, typeDefs }]);
  if (composed.errors) throw new Error(composed.errors.map(String).join('\n'));
  dir = mkdtempSync(join(tmpdir(), 'dedupe-'));
  writeFileSync(join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  router = await startRouter(routerConfig(join(dir, 'supergraph.graphql')));
});

afterAll(async () => {
  await router?.stop();
  await subgraph?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('identical subgraph queries in flight', () => {
  it('one caller sending the same query 10 times at once: one subgraph call, 10 whole answers', async () => {
    calls = { echo: 0, bump: 0 };
    const alice = await token('CUSTOMER', 'alice');
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => gqlRequest(router.url, '{ echo(text: "hi", ms: 300) { text caller } }', { token: alice })),
    );
    for (const a of answers) expect(a.body).toEqual({ data: { echo: { text: 'hi', caller: 'alice' } } });
    expect(calls.echo).toBe(1);
  });

  it('other callers and other variables are never merged', async () => {
    calls = { echo: 0, bump: 0 };
    const [alice, bob] = await Promise.all([token('CUSTOMER', 'alice'), token('CUSTOMER', 'bob')]);
    const q = 'query($t: String!) { echo(text: $t, ms: 300) { text caller } }';
    const answers = await Promise.all([
      gqlRequest(router.url, q, { token: alice, variables: { t: 'a' } }),
      gqlRequest(router.url, q, { token: bob, variables: { t: 'a' } }),
      gqlRequest(router.url, q, { token: alice, variables: { t: 'b' } }),
      gqlRequest(router.url, q, { token: alice, variables: { t: 'a' } }),
    ]);
    expect(answers.map((a) => a.body.data?.echo)).toEqual([
      { text: 'a', caller: 'alice' },
      { text: 'a', caller: 'bob' },
      { text: 'b', caller: 'alice' },
      { text: 'a', caller: 'alice' },
    ]);
    expect(calls.echo).toBe(3);
  });

  it('mutations are always sent: 5 identical ones at once are 5 calls', async () => {
    calls = { echo: 0, bump: 0 };
    const alice = await token('CUSTOMER', 'alice');
    const answers = await Promise.all(Array.from({ length: 5 }, () => gqlRequest(router.url, 'mutation { bump(ms: 200) }', { token: alice })));
    expect(answers.map((a) => a.body.data?.bump).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(calls.bump).toBe(5);
  });

  it('SUBGRAPH_DEDUPE=false: every request is its own subgraph call', async () => {
    const plain = await startRouter(routerConfig(join(dir, 'supergraph.graphql'), { SUBGRAPH_DEDUPE: 'false' }));
    try {
      calls = { echo: 0, bump: 0 };
      const alice = await token('CUSTOMER', 'alice');
      await Promise.all(Array.from({ length: 4 }, () => gqlRequest(plain.url, '{ echo(text: "hi", ms: 200) { text } }', { token: alice })));
      expect(calls.echo).toBe(4);
    } finally {
      await plain.stop();
    }
  });

  it('nothing is cached: the same query again after the first answered is sent again', async () => {
    calls = { echo: 0, bump: 0 };
    const alice = await token('CUSTOMER', 'alice');
    await gqlRequest(router.url, '{ echo(text: "again", ms: 10) { text } }', { token: alice });
    await gqlRequest(router.url, '{ echo(text: "again", ms: 10) { text } }', { token: alice });
    expect(calls.echo).toBe(2);
  });
});
