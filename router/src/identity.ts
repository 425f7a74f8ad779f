/**
 * Who is calling: the bearer token of a person, verified here, or nobody
 * (ANONYMOUS). The result travels to subgraphs as a router-signed internal
 * token (see datasource.ts). Used by HTTP now and by the WebSocket
 * `connection_init` later, so it takes a header value, not a request.
 */
import { randomUUID } from 'node:crypto';
import { ANONYMOUS, AuthError, verifyUserToken, type Identity, type UserTokenOptions } from '@rental/auth';

/** What each GraphQL operation carries through the gateway. */
export type RouterContext = {
  identity: Identity;
  requestId: string;
  /** The peer address (rate limit key of anonymous callers). */
  clientIp?: string;
};

/**
 * `undefined`/empty → ANONYMOUS; `Bearer <jwt>` → the verified identity;
 * anything else → {@link AuthError} (code UNAUTHENTICATED).
 */
export async function authenticate(authorization: string | undefined, opts: UserTokenOptions): Promise<Identity> {
  if (authorization === undefined || authorization.trim() === '') return ANONYMOUS;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) throw new AuthError('Authorization header must be "Bearer <token>"');
  return verifyUserToken(match[1], opts);
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `x-request-id` when it is a sane token, else a fresh UUID. */
export function requestIdFrom(header: string | undefined): string {
  return header && SAFE_REQUEST_ID.test(header) ? header : randomUUID();
}
