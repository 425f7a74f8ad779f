/** People's bearer tokens: verified by the router, signed by local tooling and tests. */
import { SignJWT, jwtVerify } from 'jose';
import { hmacKey } from './hmac.js';
import { USER_ROLES, explainAuthError, identityFromClaims, type Identity, type UserRole } from './identity.js';

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
