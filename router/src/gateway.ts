/**
 * The federation side of the router: `@apollo/gateway` serving the
 * supergraph file (reloaded on change when SUPERGRAPH_WATCH, by default in
 * development), and what must follow every supergraph it loads:
 *
 * - the subscription planner (subscriptions/planner.ts), so WebSocket
 *   operations plan against what HTTP operations see; a supergraph the
 *   planner cannot load is logged and the previous one kept;
 * - the `@cost`/`@listSize` directives demand control reads
 *   (limits/cost.ts).
 *
 * Both start from the file read at start-up, before the gateway has loaded.
 */
import { ApolloGateway } from '@apollo/gateway';
import type { Logger } from '@rental/observability';
import type { RouterConfig } from './config.js';
import { CostDirectives } from './limits/cost.js';
import type { OperationLimits } from './limits/operation.js';
import type { SubgraphServices } from './subgraph-services.js';
import { SubscriptionPlanner } from './subscriptions/planner.js';
import { supergraphHook } from './supergraph.js';

/** The gateway, the planner that follows it, and the current cost directives. */
export interface Federation {
  gateway: ApolloGateway;
  planner: SubscriptionPlanner;
  /** The `@cost`/`@listSize` of the supergraph being served now. */
  costDirectives: () => CostDirectives;
}

/** SUPERGRAPH_WATCH (`true`/`1`), by default on in development only. */
function watchSupergraph(config: RouterConfig): boolean {
  if (config.SUPERGRAPH_WATCH !== undefined) return config.SUPERGRAPH_WATCH === 'true' || config.SUPERGRAPH_WATCH === '1';
  return config.NODE_ENV === 'development';
}

/** Builds the gateway over `supergraphSdl` (the file's content at start-up); it loads when Apollo Server starts. */
export function createFederation(
  config: RouterConfig,
  supergraphSdl: string,
  services: SubgraphServices,
  limits: OperationLimits,
  logger: Logger,
): Federation {
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphHook({
      path: config.SUPERGRAPH_PATH,
      initialSdl: supergraphSdl,
      overrides: config.SUBGRAPH_URLS,
      watch: watchSupergraph(config),
      logger,
    }),
    buildService: services.buildService,
  });
  const planner = new SubscriptionPlanner(config.SUBGRAPH_URLS, services.buildService, services.pickUrl);
  planner.limits = limits;
  let costDirectives = CostDirectives.fromSupergraph(supergraphSdl);
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    costDirectives = CostDirectives.fromSupergraph(coreSupergraphSdl);
    try {
      planner.update(coreSupergraphSdl);
    } catch (err) {
      logger.error({ err }, 'subscription planner could not load the supergraph; keeping the previous one');
    }
  });
  return { gateway, planner, costDirectives: () => costDirectives };
}
