/**
 * The HTTP connections the router keeps open to its subgraphs.
 *
 * Fetches go through make-fetch-happen, the gateway's own fetch, but over
 * Node keep-alive agents that close an idle socket **before the subgraph
 * does**: after `SUBGRAPH_IDLE_TIMEOUT_MS`, or 1 s before the subgraph's
 * announced `Keep-Alive: timeout=N` when that is sooner (Node's agent reads
 * the hint once an agent timeout is set; a hint of 1 s or less means the
 * socket is not reused at all). A request is then never written onto a
 * socket the subgraph is closing, which would fail with a reset and no
 * answer (a mutation is never sent twice, see fetcher.ts).
 *
 * Why not the gateway's default fetch: its @npmcli/agent agents set no idle
 * timeout that survives the first response, so Node's agent ignores the hint
 * and an idle socket lives until the subgraph closes it. They also read
 * `http_proxy`/`https_proxy`; subgraph calls stay inside the cluster and use
 * no proxy.
 */
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';

type Fetcher = RemoteGraphQLDataSource['fetcher'];

/**
 * The one call the router makes into make-fetch-happen, which ships no types
 * (`@types/make-fetch-happen` describes an older major and pulls the DOM
 * library into every program that compiles this file).
 */
interface MakeFetchHappen {
  defaults(options: {
    /** No retries of its own: the pool fetcher decides (fetcher.ts). */
    retry: false;
    /** The agent for a request's URL (instead of its @npmcli/agent ones). */
    agent: (url: URL) => http.Agent;
  }): Fetcher;
}
const makeFetchHappen = createRequire(import.meta.url)('make-fetch-happen') as MakeFetchHappen;

export class SubgraphConnections {
  /** The fetch every subgraph data source uses. */
  readonly fetcher: Fetcher;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(idleTimeoutMs: number) {
    // `timeout` on Node's agent is the idle time of a free socket (a busy one is not cut:
    // the agent destroys a socket on timeout only while it sits in the free list).
    // No socket limit per subgraph, as before; 'fifo' spreads requests over the open sockets, as before.
    const options = { keepAlive: true, timeout: idleTimeoutMs, maxSockets: Infinity, scheduling: 'fifo' as const };
    this.agents = { http: new http.Agent(options), https: new https.Agent(options) };
    this.fetcher = makeFetchHappen.defaults({
      retry: false,
      agent: (url) => (url.protocol === 'https:' ? this.agents.https : this.agents.http),
    });
  }

  /** Closes every open socket (on router stop; in-flight requests have drained by then). */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
