/**
 * The signed-in person: a bearer token kept in sessionStorage (this tab only,
 * gone when it closes), and the claims read from it for display and routing.
 * The token is never verified here; the router does that on every call.
 */
export type Role = 'CUSTOMER' | 'STAFF' | 'ADMIN';

export interface Session {
  token: string;
  role: Role;
  sub: string;
  storeId?: string;
  /** Seconds since the epoch. */
  exp?: number;
}

const KEY = 'rental.session.token';

function base64UrlDecode(part: string): string {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Reads the claims of a JWT; throws with a readable message when it is not one of ours. */
export function sessionFromToken(raw: string): Session {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('That is not a token: a token has three parts separated by dots.');
  let claims: { sub?: unknown; role?: unknown; storeId?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(base64UrlDecode(parts[1]!)) as typeof claims;
  } catch {
    throw new Error('That token cannot be read. Copy the whole line printed by npm run token.');
  }
  const role = claims.role;
  if (role !== 'CUSTOMER' && role !== 'STAFF' && role !== 'ADMIN') throw new Error('That token has no customer, staff or admin role.');
  if (typeof claims.sub !== 'string' || !claims.sub) throw new Error('That token names no user.');
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
  if (exp !== undefined && exp * 1000 <= Date.now()) throw new Error('That token has expired. Get a new one.');
  return {
    token,
    role,
    sub: claims.sub,
    ...(typeof claims.storeId === 'string' ? { storeId: claims.storeId } : {}),
    ...(exp !== undefined ? { exp } : {}),
  };
}

export function loadSession(): Session | null {
  const token = sessionStorage.getItem(KEY);
  if (!token) return null;
  try {
    return sessionFromToken(token);
  } catch {
    sessionStorage.removeItem(KEY);
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, session.token);
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
