/**
 * Identity: who is calling, how the router proves it to subgraphs, and how
 * one service proves itself to another.
 *
 * Protocol:
 * - A person calls the router with `Authorization: Bearer <JWT>`, HS256-signed
 *   with `JWT_SECRET` (claims `sub`, `role`, optional `storeId`, `exp`).
 * - The router verifies it and forwards, on every subgraph fetch, the header
 *   {@link IDENTITY_HEADER}: a JWT it signs with `INTERNAL_JWT_SECRET`, issuer
 *   `router`, audience `subgraph`, valid for {@link INTERNAL_TOKEN_TTL_SECONDS}.
 *   An anonymous caller gets an identity too (role `ANONYMOUS`), so a subgraph
 *   can always tell a routed call from a direct one.
 * - A service calling another signs the same kind of token with role
 *   `SERVICE` and its own name as `sub` and issuer.
 * - Subgraphs accept nothing without a valid identity header.
 */
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';

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

/** Header carrying the router-signed identity to subgraphs. */
export const IDENTITY_HEADER = 'x-rental-identity';
/** Header carrying the request id from router to subgraphs to jobs. */
export const REQUEST_ID_HEADER = 'x-request-id';
export const INTERNAL_TOKEN_TTL_SECONDS = 60;
const INTERNAL_AUDIENCE = 'subgraph';

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

const keyCache = new Map<string, Uint8Array>();
function hmacKey(secret: string): Uint8Array {
  let key = keyCache.get(secret);
  if (!key) {
    key = new TextEncoder().encode(secret);
    keyCache.set(secret, key);
  }
  return key;
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

/** Options for checking a person's token. */
export interface UserTokenOptions {
  secret: string;
  issuer?: string;
  audience?: string;
}

/** Verifies a person's bearer token; throws {@link AuthError}. */
export async function verifyUserToken(token: string, opts: UserTokenOptions): Promise<Identity> {
  try {
    const { payload } = await jwtVerify(token, hmacKey(opts.secret), {
      algorithms: ['HS256'],
      issuer: opts.issuer,
      audience: opts.audience,
      requiredClaims: ['exp', 'sub'],
    });
    return identityFromClaims(payload, USER_ROLES);
  } catch (err) {
    throw explainAuthError(err);
  }
}

/** Signs a person's token (local tooling, tests, seed). */
export async function signUserToken(
  identity: { sub: string; role: UserRole; storeId?: string },
  opts: UserTokenOptions & { expiresIn?: string | number },
): Promise<string> {
  let jwt = new SignJWT({ role: identity.role, ...(identity.storeId ? { storeId: identity.storeId } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(identity.sub)
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? '8h');
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  return jwt.sign(hmacKey(opts.secret));
}

/** Signs the short-lived identity the router (or a service) attaches to a subgraph call. */
export async function signInternalIdentity(identity: Identity, secret: string, issuer = 'router'): Promise<string> {
  return new SignJWT({ role: identity.role, ...(identity.storeId ? { storeId: identity.storeId } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(identity.sub)
    .setIssuer(issuer)
    .setAudience(INTERNAL_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${INTERNAL_TOKEN_TTL_SECONDS}s`)
    .sign(hmacKey(secret));
}

/**
 * A cache of signed internal identities: signing costs an HMAC per call, and
 * the same caller makes many calls in a token's lifetime. Entries are reused
 * for half the token's life, so a forwarded token always has 30 s left.
 */
export class InternalIdentitySigner {
  private readonly cache = new Map<string, { token: string; until: number }>();
  constructor(
    private readonly secret: string,
    private readonly issuer = 'router',
  ) {}

  async sign(identity: Identity): Promise<string> {
    const key = `${identity.role}\u0000${identity.sub}\u0000${identity.storeId ?? ''}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.token;
    const token = await signInternalIdentity(identity, this.secret, this.issuer);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { token, until: now + (INTERNAL_TOKEN_TTL_SECONDS * 1000) / 2 });
    return token;
  }
}

/** Verifies an internal identity header; throws {@link AuthError}. */
export async function verifyInternalIdentity(token: string, secret: string): Promise<Identity & { issuer: string }> {
  try {
    const { payload } = await jwtVerify(token, hmacKey(secret), {
      algorithms: ['HS256'],
      audience: INTERNAL_AUDIENCE,
      requiredClaims: ['exp', 'sub', 'iss'],
      maxTokenAge: `${INTERNAL_TOKEN_TTL_SECONDS + 5}s`,
    });
    const identity = identityFromClaims(payload, [...USER_ROLES, 'SERVICE', 'ANONYMOUS']);
    return { ...identity, issuer: payload.iss as string };
  } catch (err) {
    throw explainAuthError(err);
  }
}

/** Throws UNAUTHENTICATED for an anonymous caller, FORBIDDEN when the role is not allowed. */
export function requireRole(identity: Identity, ...roles: Role[]): void {
  if (identity.role === 'ANONYMOUS') throw new AuthError('sign in to do this', 'UNAUTHENTICATED');
  if (!roles.includes(identity.role)) throw new AuthError(`needs role ${roles.join(' or ')}`, 'FORBIDDEN');
}

/** STAFF may act only for their own store; ADMIN for any; others not at all. */
export function requireStoreAccess(identity: Identity, storeId: string): void {
  requireRole(identity, 'STAFF', 'ADMIN');
  if (identity.role === 'STAFF' && identity.storeId !== storeId) {
    throw new AuthError('staff may act only for their own store', 'FORBIDDEN');
  }
}
