/**
 * What the HTTP middlewares hand to the GraphQL operation: request-id.ts and
 * auth.ts leave their results on `res.locals`, and {@link graphqlContext}
 * turns them into the {@link RouterContext} every plugin, data source and
 * subgraph fetch reads. One place names those `res.locals` keys.
 */
import type express from 'express';
import type { Identity } from '@rental/auth';
import type { RouterContext } from '../identity.js';

/** The `res.locals` of a `/graphql` request once the middlewares before Apollo Server have run. */
export interface RequestLocals {
  /** Set by request-id.ts on every request. */
  requestId: string;
  /** Set by auth.ts once the bearer token (or its absence) is verified. */
  identity: Identity;
}

/** Typed access to a response's {@link RequestLocals}. */
export function requestLocals(res: express.Response): RequestLocals {
  return res.locals as RequestLocals;
}

/**
 * Apollo Server's `context` function: the caller, the request id and the
 * peer address (the rate limit key of anonymous callers; `trust proxy` is
 * off, so it is the socket's, never a header's).
 */
export async function graphqlContext({ req, res }: { req: express.Request; res: express.Response }): Promise<RouterContext> {
  const { identity, requestId } = requestLocals(res);
  return { identity, requestId, ...(req.socket.remoteAddress ? { clientIp: req.socket.remoteAddress } : {}) };
}
