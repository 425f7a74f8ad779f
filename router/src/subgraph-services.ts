/**
 * How the router reaches its subgraphs: one data source per subgraph
 * (datasource.ts: the caller's identity re-signed onto every fetch), shared
 * by the gateway's fetches and the subscription executor's, over keep-alive
 * connections (upstreams/connections.ts) and, for a subgraph with several
 * URLs (`name=url|url`), a pool that spreads calls, skips down URLs and
 * retries queries (upstreams/pool.ts).
 *
 * A subgraph's URL: its `SUBGRAPH_URLS` override, else the one written in
 * the supergraph. {@link SubgraphServices.close} stops the pools' readiness
 * polling and closes the connections (the last step of shutdown).
 */
import type { InternalIdentitySigner } from '@rental/auth';
import type { Logger } from '@rental/observability';
import type { RouterConfig } from './config.js';
import { IdentityDataSource } from './datasource.js';
import { SubgraphConnections } from './upstreams/connections.js';
import { UpstreamRegistry } from './upstreams/pool.js';

/** The data sources of the router's subgraphs and what they share. */
export class SubgraphServices {
  private readonly upstreams: UpstreamRegistry;
  private readonly connections: SubgraphConnections;

  constructor(
    private readonly config: RouterConfig,
    private readonly signer: InternalIdentitySigner,
    private readonly logger: Logger,
  ) {
    this.upstreams = new UpstreamRegistry({
      downMs: config.SUBGRAPH_DOWN_MS,
      healthPath: config.SUBGRAPH_HEALTH_PATH,
      healthIntervalMs: config.SUBGRAPH_HEALTH_INTERVAL_MS,
      logger,
    });
    this.connections = new SubgraphConnections(config.SUBGRAPH_IDLE_TIMEOUT_MS);
  }

  /** The gateway's `buildService` (and the subscription planner's): a data source for one subgraph. */
  readonly buildService = ({ name, url }: { name: string; url?: string }): IdentityDataSource => {
    const spec = this.config.SUBGRAPH_URLS[name] ?? url ?? '';
    return new IdentityDataSource(name, spec, this.signer, this.logger, {
      fetcher: this.connections.fetcher,
      dedupe: this.config.SUBGRAPH_DEDUPE,
      ...(spec ? { pool: this.upstreams.get(name, spec) } : {}),
    });
  };

  /** One http URL of a subgraph's spec to open a WebSocket on now: a healthy one when it has several. */
  readonly pickUrl = (name: string, spec: string): string => (spec.includes('|') ? this.upstreams.get(name, spec).pick() : spec);

  /** Stops readiness polling and closes every subgraph connection. */
  close(): void {
    this.upstreams.close();
    this.connections.close();
  }
}
