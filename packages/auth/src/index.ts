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
 * - Signing and verifying are cached (signer.ts, verifier.ts): a token is
 *   reused for half its lifetime per identity, and a verified token is
 *   remembered until shortly before it expires (token-cache.ts; the router
 *   remembers callers' verified bearer tokens the same way).
 */
export {
  USER_ROLES,
  ANONYMOUS,
  IDENTITY_HEADER,
  REQUEST_ID_HEADER,
  AuthError,
  identityFromClaims,
  identityKey,
  explainAuthError,
  requireRole,
  type UserRole,
  type Role,
  type Identity,
} from './identity.js';
export { SelectionKeys } from './selection-key.js';
export { mayViewReservation, mayActForStore, requireStoreAccess, type ReservationParties } from './access.js';
export { verifyUserToken, signUserToken, type UserTokenOptions } from './user-token.js';
export {
  INTERNAL_TOKEN_TTL_SECONDS,
  signInternalIdentity,
  verifyInternalIdentity,
  type InternalIdentity,
} from './internal-token.js';
export { InternalIdentitySigner, type SignerOptions, type SignerStats } from './signer.js';
export { InternalIdentityVerifier, type VerifierOptions, type VerifierStats } from './verifier.js';
export { VerifiedTokenCache, type TokenCacheOptions, type TokenCacheStats, type Verified } from './token-cache.js';
