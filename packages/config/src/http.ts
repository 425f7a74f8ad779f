/**
 * How long an HTTP server keeps an idle keep-alive connection, and how long
 * it waits for a request's headers: the two Node settings that decide whether
 * a client reusing a connection gets an answer or `other side closed`.
 *
 * Rule: load balancer (or any client's) idle timeout < KEEP_ALIVE_TIMEOUT_MS
 * < HEADERS_TIMEOUT_MS. A client must give up an idle socket before the server
 * closes it, or its next request can be written onto a socket the server is
 * closing and get no answer. Node's own default (5 s) is below every common
 * load balancer's idle timeout (60 s for AWS ALB, nginx's upstream keepalive
 * 60 s), hence 65 s here. Node also closes an idle socket only about 1 s
 * after `keepAliveTimeout`, and announces `Keep-Alive: timeout=<seconds>` so
 * clients that read the hint (Node's agent, undici) leave earlier still.
 */
import type { ConfigRule } from './errors.js';
import { ConfigError } from './errors.js';
import { env, z } from './fields.js';

/** Default idle keep-alive time: above the 60 s idle timeout common to load balancers. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** HEADERS_TIMEOUT_MS when unset: this much above KEEP_ALIVE_TIMEOUT_MS. */
export const HEADERS_TIMEOUT_MARGIN_MS = 5_000;
/**
 * Node's `requestTimeout` (300 s, which we keep): `http.createServer` throws
 * when `headersTimeout` exceeds it, so both settings stay at or below it.
 */
const NODE_REQUEST_TIMEOUT_MS = 300_000;

/** The variables every HTTP server of the project reads (part of `commonShape`). */
export const httpServerShape = {
  /** Idle time after which the server closes a keep-alive connection. */
  KEEP_ALIVE_TIMEOUT_MS: env.int(DEFAULT_KEEP_ALIVE_TIMEOUT_MS, 1_000, NODE_REQUEST_TIMEOUT_MS - HEADERS_TIMEOUT_MARGIN_MS),
  /** Time allowed to receive a request's headers; must exceed KEEP_ALIVE_TIMEOUT_MS. Unset: keep-alive + 5000. */
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_001).max(NODE_REQUEST_TIMEOUT_MS).optional(),
};

/** The parsed values of {@link httpServerShape}; a service's whole config satisfies it. */
export type HttpServerSettings = z.infer<z.ZodObject<typeof httpServerShape>>;

/**
 * HEADERS_TIMEOUT_MS > KEEP_ALIVE_TIMEOUT_MS: a headers timer shorter than
 * the keep-alive one can fire on a reused socket while the client is still
 * sending the next request's headers (the race Node's docs warn about).
 */
export const headersAfterKeepAlive: ConfigRule = {
  variables: ['KEEP_ALIVE_TIMEOUT_MS', 'HEADERS_TIMEOUT_MS'],
  check(values) {
    const keepAlive = values.KEEP_ALIVE_TIMEOUT_MS as number;
    const headers = values.HEADERS_TIMEOUT_MS as number | undefined;
    if (headers === undefined || headers > keepAlive) return undefined;
    return `HEADERS_TIMEOUT_MS: must be greater than KEEP_ALIVE_TIMEOUT_MS (${keepAlive}), got ${headers}`;
  },
};

/** The options of `http.createServer` these settings stand for. */
export interface ServerTimeouts {
  keepAliveTimeout: number;
  headersTimeout: number;
}

/**
 * Node's server options for `settings`: `http.createServer(serverTimeouts(config), app)`.
 * Values assembled by hand (tests) are held to the same rule; throws {@link ConfigError}.
 */
export function serverTimeouts(settings: HttpServerSettings): ServerTimeouts {
  const problem = headersAfterKeepAlive.check(settings);
  if (problem) throw new ConfigError([problem]);
  const keepAliveTimeout = settings.KEEP_ALIVE_TIMEOUT_MS;
  return { keepAliveTimeout, headersTimeout: settings.HEADERS_TIMEOUT_MS ?? keepAliveTimeout + HEADERS_TIMEOUT_MARGIN_MS };
}
