/**
 * The internal identity token: what the router (or a service) sends a
 * subgraph in `x-rental-identity`. HS256 with `INTERNAL_JWT_SECRET`,
 * audience `subgraph`, issuer `router` or the calling service's name, valid
 * {@link INTERNAL_TOKEN_TTL_SECONDS}. These are the uncached primitives; the
 * router, services and subgraphs go through signer.ts and verifier.ts.
 */
import { SignJWT, jwtVerify } from 'jose';
import { hmacKey } from './hmac.js';
import { USER_ROLES, explainAuthError, identityFromClaims, type Identity } from './identity.js';

export const INTERNAL_TOKEN_TTL_SECONDS = 60;
/** The audience of every internal token. */
export const INTERNAL_AUDIENCE = 'subgraph';
/** Oldest a token may be (from its `iat`), whatever its `exp` says: a little over its lifetime, for clock skew. */
const MAX_TOKEN_AGE_SECONDS = INTERNAL_TOKEN_TTL_SECONDS + 5;

/** A verified caller, with who vouched for it. */
export type InternalIdentity = Identity & { issuer: string };

/** A signed token and the moment it expires. */
export interface SignedInternalToken {
  token: string;
  /** `exp` in ms since the epoch. */
  expiresAtMs: number;
}

/** A verified token's identity, and until when the same verification would still accept it. */
export interface VerifiedInternalToken {
  identity: InternalIdentity;
  /** ms since the epoch: the earlier of `exp` and `iat` + the largest accepted age. */
  validUntilMs: number;
}

/** Signs `identity` as issued at `nowMs` (whole seconds, as JWT times are), valid for the token lifetime. */
export async function signInternalToken(
  identity: Identity,
  secret: string,
  issuer: string,
  nowMs: number = Date.now(),
): Promise<SignedInternalToken> {
  const issuedAt = Math.floor(nowMs / 1000);
  const expiresAt = issuedAt + INTERNAL_TOKEN_TTL_SECONDS;
  const token = await new SignJWT({ role: identity.role, ...(identity.storeId ? { storeId: identity.storeId } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(identity.sub)
    .setIssuer(issuer)
    .setAudience(INTERNAL_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(hmacKey(secret));
  return { token, expiresAtMs: expiresAt * 1000 };
}

/** Signs the short-lived identity the router (or a service) attaches to a subgraph call, once, uncached. */
export async function signInternalIdentity(identity: Identity, secret: string, issuer = 'router'): Promise<string> {
  return (await signInternalToken(identity, secret, issuer)).token;
}

/** Verifies a token as of `nowMs` (jose's clock too); throws {@link AuthError}. */
export async function verifyInternalToken(token: string, secret: string, nowMs: number = Date.now()): Promise<VerifiedInternalToken> {
  try {
    const { payload } = await jwtVerify(token, hmacKey(secret), {
      algorithms: ['HS256'],
      audience: INTERNAL_AUDIENCE,
      // maxTokenAge makes `iat` required as well.
      requiredClaims: ['exp', 'sub', 'iss'],
      maxTokenAge: `${MAX_TOKEN_AGE_SECONDS}s`,
      currentDate: new Date(nowMs),
    });
    const identity = identityFromClaims(payload, [...USER_ROLES, 'SERVICE', 'ANONYMOUS']);
    // jose accepts while now < exp and now − iat ≤ the largest age (whole seconds); a token
    // signed elsewhere with a later exp is still refused once too old, so both bound it.
    const validUntilMs = Math.min((payload.exp as number) * 1000, ((payload.iat as number) + MAX_TOKEN_AGE_SECONDS) * 1000);
    return { identity: { ...identity, issuer: payload.iss as string }, validUntilMs };
  } catch (err) {
    throw explainAuthError(err);
  }
}

/** Verifies an internal identity header once, uncached; throws {@link AuthError}. */
export async function verifyInternalIdentity(token: string, secret: string): Promise<InternalIdentity> {
  return (await verifyInternalToken(token, secret)).identity;
}
