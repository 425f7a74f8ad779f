/**
 * The router's settings, from the environment. Nothing here names a subgraph:
 * the subgraphs are whatever the supergraph file lists, and `SUBGRAPH_URLS`
 * may point any of them elsewhere (checked against the file at start-up).
 */
import { commonShape, env, loadConfig, parseConfig, z } from '@rental/config';

function isHttpUrl(url: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

/**
 * `name=url,name=url` → a map; every url http(s), every name given once.
 * A subgraph may have several URLs, `name=url|url|…` (the router spreads its
 * fetches over them, see upstreams/); the map keeps them `|`-joined.
 */
const subgraphUrls = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const out: Record<string, string> = {};
    for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      const eq = entry.indexOf('=');
      const name = eq > 0 ? entry.slice(0, eq).trim() : '';
      const urls = eq > 0 ? entry.slice(eq + 1).split('|').map((u) => u.trim()).filter(Boolean) : [];
      if (!name || urls.length === 0) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${entry}" is not name=url (or name=url|url)` });
        continue;
      }
      const bad = urls.filter((u) => !isHttpUrl(u));
      if (bad.length > 0) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `subgraph "${name}": "${bad[0]}" is not an http or https URL` });
        continue;
      }
      if (name in out) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `subgraph "${name}" is given twice` });
        continue;
      }
      out[name] = [...new Set(urls)].join('|');
    }
    return out;
  });

export const routerShape = {
  ...commonShape,
  ROUTER_PORT: env.port(4000),
  /** HS256 secret of the people's bearer tokens (local); required unless JWKS_URL is set. */
  JWT_SECRET: env.secret(32).optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  /** The identity provider's JSON Web Key Set (production); when set, tokens are verified against it. */
  JWKS_URL: env.url(['http', 'https']).optional(),
  /** Accepted `alg`s (default HS256 with JWT_SECRET; RS256,ES256 with JWKS_URL). */
  JWT_ALGORITHMS: env.list([]),
  /** Clock skew tolerated on exp/nbf/iat. */
  JWT_CLOCK_TOLERANCE_SECONDS: env.int(5, 0, 300),
  /** Least time between two key set fetches (an unknown `kid` triggers one). */
  JWKS_COOLDOWN_MS: env.int(30_000, 0, 3_600_000),
  /** How long a fetched key set is used before it is fetched again. */
  JWKS_CACHE_MAX_AGE_MS: env.int(600_000, 1_000, 86_400_000),
  /** Production only: start with JWT_SECRET (HS256) and no JWKS_URL. */
  ALLOW_HS256_IN_PRODUCTION: env.bool(false),
  /** Operation limits (see router/README.md, "Limits"). */
  MAX_DEPTH: env.int(12, 1, 1_000),
  MAX_ALIASES: env.int(30, 0, 10_000),
  MAX_ROOT_FIELDS: env.int(20, 1, 10_000),
  MAX_TOKENS: env.int(4_000, 10, 1_000_000),
  MAX_COST: env.int(5_000, 1, 100_000_000),
  /** Assumed size of a list with no slicing argument or @listSize in the cost estimate (limits/cost.ts). */
  COST_DEFAULT_LIST_SIZE: env.int(10, 1, 10_000),
  /** Mutations per caller per minute (Redis; needs REDIS_URL). 0: off. Default 120 in production, off otherwise. */
  RATE_LIMIT_MUTATIONS_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).optional(),
  /** Redis for the mutation rate limit and the shared APQ cache. Unset: both local/off (logged). */
  REDIS_URL: env.url(['redis', 'rediss']).optional(),
  /** Key prefix in Redis (tests isolate runs with it). */
  ROUTER_REDIS_PREFIX: z.string().default('router'),
  /** How long an automatic persisted query stays registered. */
  APQ_TTL_SECONDS: env.int(86_400, 1, 31_536_000),
  /** The supergraph file, relative to the working directory (the repo root). */
  SUPERGRAPH_PATH: z.string().default('schema/supergraph.graphql'),
  /** Reload the supergraph when the file changes (default: on in development). */
  SUPERGRAPH_WATCH: z.enum(['true', 'false', '1', '0']).optional(),
  /** `name=url,…` (or `name=url|url`): subgraph URLs that replace those written in the supergraph. */
  SUBGRAPH_URLS: subgraphUrls,
  /** A subgraph URL that refused a connection is skipped this long (multi-URL subgraphs). */
  SUBGRAPH_DOWN_MS: env.int(5_000, 0, 600_000),
  /** Readiness path polled on each URL of a multi-URL subgraph (`off`: no polling). */
  SUBGRAPH_HEALTH_PATH: z.string().default('/readyz').transform((v) => (v === 'off' ? '' : v)),
  /** How often that readiness path is polled. */
  SUBGRAPH_HEALTH_INTERVAL_MS: env.int(1_000, 100, 600_000),
  /**
   * The router closes a connection to a subgraph after it has been idle this long, or 1 s before
   * the subgraph's announced keep-alive when sooner: below the subgraphs' KEEP_ALIVE_TIMEOUT_MS,
   * so a request never meets a socket the subgraph is closing (upstreams/connections.ts).
   */
  SUBGRAPH_IDLE_TIMEOUT_MS: env.int(60_000, 1_000, 600_000),
  /** Identical subgraph queries of one identity in flight share one fetch (upstreams/dedupe.ts). */
  SUBGRAPH_DEDUPE: env.bool(true),
  /** Browser origins allowed by CORS; `*` allows any. Empty: same-origin only. */
  CORS_ORIGINS: env.list([]),
  /** Largest request body accepted (express/body-parser syntax). */
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'like 100kb or 1mb').default('1mb'),
  /** On shutdown: how long /readyz fails before draining starts (lets load balancers notice). */
  SHUTDOWN_DELAY_MS: env.int(0, 0, 60_000),
  /** On shutdown: how long in-flight requests may take to finish. */
  DRAIN_TIMEOUT_MS: env.int(10_000, 0, 120_000),
  /** Open subscriptions one WebSocket connection may hold; the next one gets an error. */
  MAX_SUBSCRIPTIONS_PER_CONNECTION: env.int(20, 1, 10_000),
  /** WebSocket keep-alive: a ws ping this often; a peer that has not answered by the next one is dropped. 0: off. */
  WS_KEEPALIVE_MS: env.int(12_000, 0, 600_000),
  /** Results one subscription may hold for a client that reads too slowly before its socket is closed 1013 (subscriptions/channel.ts). */
  WS_MAX_BUFFERED_MESSAGES: env.int(100, 1, 100_000),
  /** `subscribe` messages one WebSocket may send per second (subscriptions/subscribe-rate.ts). */
  WS_SUBSCRIBES_PER_SECOND: env.int(20, 1, 100_000),
  /** `subscribe` messages one caller may send per second over all their sockets on this router. */
  WS_SUBSCRIBES_PER_SECOND_PER_CALLER: env.int(50, 1, 1_000_000),
};

export type RouterConfig = z.infer<z.ZodObject<typeof routerShape>>;

/** Parses (throws ConfigError); for tests. */
export function parseRouterConfig(source: Record<string, string | undefined> = process.env): RouterConfig {
  return parseConfig(routerShape, source);
}

/** Parses or prints the problem and exits 1; for main. */
export function loadRouterConfig(source: Record<string, string | undefined> = process.env): RouterConfig {
  return loadConfig(routerShape, source);
}
