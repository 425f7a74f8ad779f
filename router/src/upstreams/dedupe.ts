/**
 * Deduplicating identical subgraph queries in flight: when a fetch is about
 * to go to a subgraph while the very same one is already on its way, it
 * waits for that one's answer instead of sending another. Under a burst of
 * the same operation (a popular page, many open screens after an event) this
 * turns N identical fetches into one.
 *
 * Rules (each one is why sharing an answer is safe):
 * - Queries only: the data source marks a query with {@link RETRY_MARK} = 1
 *   (upstreams/operation.ts); a mutation is always sent, every time.
 * - The same identity only: the key includes the router-signed identity
 *   header, so callers who might be allowed to see different things never
 *   share an answer. (The signer reuses one token per identity for half its
 *   life, so one caller's concurrent requests share a key.)
 * - The same subgraph and the same body (the query and its variables, as the
 *   gateway serialized them). The request id is not part of the key: a
 *   shared fetch carries the first request's id to the subgraph.
 * - In flight only: the entry is gone once the answer (or the failure) is
 *   in, so nothing is cached; every waiter gets its own copy of the answer
 *   (`clone()`), or the same failure.
 */
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { IDENTITY_HEADER } from '@rental/auth';
import { RETRY_MARK } from './fetcher.js';
import { upstreamDeduplicated } from './metrics.js';

type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherResponse = Awaited<ReturnType<Fetcher>>;

/** Wraps `inner` (which must still see {@link RETRY_MARK}) so identical queries in flight share one fetch. */
export function dedupeFetcher(inner: Fetcher, subgraph: string): Fetcher {
  const inFlight = new Map<string, Promise<FetcherResponse>>();
  return async (url, init) => {
    const headers = init?.headers ?? {};
    const identity = headers[IDENTITY_HEADER];
    if (headers[RETRY_MARK] !== '1' || identity === undefined || typeof init?.body !== 'string') return inner(url, init);
    const key = `${identity}\n${init.body}`;
    const pending = inFlight.get(key);
    if (pending) {
      upstreamDeduplicated.inc({ subgraph });
      return (await pending).clone();
    }
    const sent = inner(url, init);
    inFlight.set(key, sent);
    try {
      return (await sent).clone();
    } finally {
      inFlight.delete(key);
    }
  };
}
