/**
 * The fetcher a subgraph data source uses with an {@link UpstreamPool}: each
 * fetch goes to the pool's next URL; when the connection is refused or reset
 * before any response arrived, the URL is marked down (refused) and a
 * **query** is sent again to another URL of the pool (each URL at most once).
 * A query whose connection was reset is also sent once more when no other
 * URL is left (a single-URL subgraph included): a fresh connection succeeds
 * where a kept-alive one was closed by the server under our feet.
 * A mutation is never sent twice: its failure is the caller's answer.
 *
 * The data source tells the fetcher whether a fetch may be retried with the
 * {@link RETRY_MARK} header, which the fetcher removes before sending.
 */
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import type { Logger } from '@rental/observability';
import { upstreamRetries } from './metrics.js';
import type { UpstreamPool } from './pool.js';

type Fetcher = RemoteGraphQLDataSource['fetcher'];

/** Internal header: `1` when the fetch is a query (never sent upstream). */
export const RETRY_MARK = 'x-router-retryable';

/** Error codes of a connection that failed before any response (the request may not have been read). */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** `refused`, `reset`, or undefined when the error is not a connection failure. */
export function connectionFailure(err: unknown): 'refused' | 'reset' | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code === 'ECONNREFUSED' ? 'refused' : 'reset';
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /socket hang up/i.test(message)) return 'reset';
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function poolFetcher(inner: Fetcher, pool: UpstreamPool, logger: Logger): Fetcher {
  return async (_url, init) => {
    const headers = { ...(init?.headers ?? {}) };
    const retryable = headers[RETRY_MARK] === '1';
    delete headers[RETRY_MARK];
    const request = { ...init, headers };
    const tried = new Set<string>();
    let resetRetried = false;
    for (;;) {
      const url = pool.pick(tried);
      tried.add(url);
      try {
        return await inner(url, request);
      } catch (err) {
        const failure = connectionFailure(err);
        if (!failure) throw err;
        if (failure === 'refused') pool.markDown(url);
        if (!retryable) throw err;
        if (tried.size >= pool.urls.length) {
          if (failure !== 'reset' || resetRetried) throw err;
          resetRetried = true;
          tried.clear();
        }
        upstreamRetries.inc({ subgraph: pool.name, reason: failure });
        logger.debug({ subgraph: pool.name, url, failure }, 'subgraph connection failed; retrying the query on another URL');
      }
    }
  };
}
