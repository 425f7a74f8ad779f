/**
 * Who is calling, as every service sees it: roles, the identity, the headers
 * that carry it, and the role check resolvers make with it (who may see a
 * reservation or act for a store: access.ts).
 */
import { errors as joseErrors, type JWTPayload } from 'jose';

/** Roles of people. */
export const USER_ROLES = ['CUSTOMER', 'STAFF', 'ADMIN'] as const;
export type UserRole = (typeof USER_ROLES)[number];
/** Roles a subgraph may see: people, a trusted service, or nobody signed in. */
export type Role = UserRole | 'SERVICE' | 'ANONYMOUS';

/** The caller as subgraphs see it. */
export interface Identity {
  sub: string;
  role: Role;
  /** The store a STAFF member belongs to. */
  storeId?: string;
}

export const ANONYMOUS: Identity = Object.freeze({ sub: 'anonymous', role: 'ANONYMOUS' });

/**
 * An identity as one string, equal for two identities exactly when they
 * carry the same claims (sub, role, storeId): the key of whatever may be
 * shared between one caller's requests and never across callers.
 */
export function identityKey(identity: Pick<Identity, 'sub' | 'role' | 'storeId'>): string {
  return JSON.stringify([identity.sub, identity.role, identity.storeId ?? null]);
}

/** Header carrying the router-signed identity to subgraphs. */
export const IDENTITY_HEADER = 'x-rental-identity';
/** Header carrying the request id from router to subgraphs to jobs. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** A failed identity check; `code` is the GraphQL error code to answer with. */
export class AuthError extends Error {
  constructor(
    message: string,
    readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN' = 'UNAUTHENTICATED',
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Maps verified claims to an {@link Identity}; throws {@link AuthError} on a bad subject, role or storeId. */
export function identityFromClaims(payload: JWTPayload, allowed: readonly Role[]): Identity {
  const { sub, role, storeId } = payload as JWTPayload & { role?: unknown; storeId?: unknown };
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw new AuthError('token has no valid subject');
  if (typeof role !== 'string' || !allowed.includes(role as Role)) throw new AuthError('token has no valid role');
  if (storeId !== undefined && (typeof storeId !== 'string' || storeId.length > 128)) {
    throw new AuthError('token has an invalid storeId');
  }
  if (role === 'STAFF' && !storeId) throw new AuthError('a STAFF token must name its storeId');
  return storeId ? { sub, role: role as Role, storeId } : { sub, role: role as Role };
}

/** A jose (or our own) verification failure as an {@link AuthError} with a short public reason. */
export function explainAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof joseErrors.JWTExpired) return new AuthError('token expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) return new AuthError(`token claim "${err.claim}" is invalid`);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthError('token signature is invalid');
  return new AuthError('token is malformed or not signed with an accepted key');
}

/** Throws UNAUTHENTICATED for an anonymous caller, FORBIDDEN when the role is not allowed. */
export function requireRole(identity: Identity, ...roles: Role[]): void {
  if (identity.role === 'ANONYMOUS') throw new AuthError('sign in to do this', 'UNAUTHENTICATED');
  if (!roles.includes(identity.role)) throw new AuthError(`needs role ${roles.join(' or ')}`, 'FORBIDDEN');
}
