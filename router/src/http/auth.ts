/**
 * Who is calling, for every `/graphql` request over HTTP, before anything
 * is parsed as GraphQL: the `Authorization` header through the token
 * verifier (auth/verifier.ts: JWKS or secret, issuer, audience, expiry).
 *
 * - No header (or an empty one): ANONYMOUS; the operation runs and each
 *   subgraph decides what an anonymous caller may do.
 * - A token that does not verify, or another scheme: 401 with
 *   `WWW-Authenticate: Bearer` and a GraphQL-shaped `UNAUTHENTICATED` error
 *   (the verifier's message, e.g. "token expired"), no `data`: nothing is
 *   executed. Counted as an error and as an `unauthenticated` operation.
 * - The identity provider's key set cannot be fetched (JWKS): 503 with
 *   `Retry-After: 5` and `SERVICE_UNAVAILABLE`; the token may be fine.
 *
 * WebSockets authenticate in `connection_init` with the same verifier
 * (subscriptions/server.ts).
 */
import type express from 'express';
import { AuthError } from '@rental/auth';
import { KeySetUnavailableError, type TokenVerifier } from '../auth/verifier.js';
import { SERVICE, errorCounter, requestCounter } from '../metrics.js';
import { requestLocals } from './context.js';
import { graphqlErrorBody } from './errors.js';

function refuse(res: express.Response, err: unknown): void {
  if (err instanceof KeySetUnavailableError) {
    errorCounter.inc({ service: SERVICE, code: 'SERVICE_UNAVAILABLE' });
    res.status(503).setHeader('Retry-After', '5').json(graphqlErrorBody(err.message, 'SERVICE_UNAVAILABLE'));
    return;
  }
  const message = err instanceof AuthError ? err.message : 'unauthenticated';
  errorCounter.inc({ service: SERVICE, code: 'UNAUTHENTICATED' });
  requestCounter.inc({ service: SERVICE, operation: 'unauthenticated', code: 'UNAUTHENTICATED' });
  res.status(401).setHeader('WWW-Authenticate', 'Bearer').json(graphqlErrorBody(message, 'UNAUTHENTICATED'));
}

/** Puts the caller's identity in `res.locals`, or answers 401/503 and stops the request. */
export function authenticateRequests(verifier: TokenVerifier): express.RequestHandler {
  return async (req, res, next) => {
    try {
      requestLocals(res).identity = (await verifier.authenticate(req.header('authorization'))).identity;
    } catch (err) {
      refuse(res, err);
      return;
    }
    next();
  };
}
