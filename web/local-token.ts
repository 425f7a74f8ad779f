/**
 * LOCAL-ONLY sign-in: a tiny connect-style middleware answering
 * `POST /local-token {role, sub, storeId?}` with a freshly signed user JWT,
 * and `GET /local-token` with `{ "enabled": true }` (how the page learns it
 * may offer one-click sign-in).
 *
 * It exists for `npm start`, the Vite dev server and the browser tests, never
 * in production:
 * - `localSignInFromEnv` turns it on only with `LOCAL_SIGN_IN=true` and a
 *   `JWT_SECRET`, and never with `NODE_ENV=production`;
 * - the Vite plugin below registers it only on the dev server (`apply: 'serve'`);
 * - `serve.ts` mounts it when run with those variables (`npm start` sets
 *   `LOCAL_SIGN_IN=true`) or when a caller passes a secret in code (tests);
 * - where it is off, `/local-token` answers 404 (`localSignInOff`);
 * - `vite build` output never contains it (it is server code; the bundle only
 *   holds the `fetch('/local-token')` calls).
 * The router never mints tokens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'vite';
import type { UserRole } from '@rental/auth';

// @rental/auth and @rental/config are TypeScript source: imported lazily, only
// when a server asks about local sign-in (the dev script runs Vite with the tsx
// loader for that; serve.ts runs under tsx), so `vite build`, which loads
// vite.config.ts and this file without it, never loads them.
const loadAuth = () => import('@rental/auth');
const loadConfigLib = () => import('@rental/config');
const USER_ROLES: readonly UserRole[] = ['CUSTOMER', 'STAFF', 'ADMIN'];

/** The one path of local sign-in, on the page's own origin (the page calls it; servers route it). */
export const LOCAL_TOKEN_PATH = '/local-token';

/** Whether a server mints local tokens: on with the secret, or off (`reason` when it was asked for and refused). */
export type LocalSignIn = { on: true; secret: string } | { on: false; reason?: string };

/**
 * Reads LOCAL_SIGN_IN, NODE_ENV and JWT_SECRET: on only with `LOCAL_SIGN_IN=true`
 * outside production. With `NODE_ENV=production` it is off whatever else is
 * set (`reason` says so, for a warning). Throws `ConfigError` naming the
 * variable for a bad value, or for LOCAL_SIGN_IN=true without a JWT_SECRET of
 * at least 32 characters.
 */
export async function localSignInFromEnv(source: Record<string, string | undefined>): Promise<LocalSignIn> {
  // Unset (or empty) is off; only then is @rental/config not needed.
  if (!source.LOCAL_SIGN_IN) return { on: false };
  const { ConfigError, env, parseConfig } = await loadConfigLib();
  const { NODE_ENV, LOCAL_SIGN_IN } = parseConfig({ NODE_ENV: env.nodeEnv(), LOCAL_SIGN_IN: env.bool(false) }, source);
  if (!LOCAL_SIGN_IN) return { on: false };
  if (NODE_ENV === 'production') {
    return { on: false, reason: `LOCAL_SIGN_IN=true is ignored with NODE_ENV=production: ${LOCAL_TOKEN_PATH} answers 404` };
  }
  try {
    return { on: true, secret: parseConfig({ JWT_SECRET: env.secret(32) }, source).JWT_SECRET };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(err.problems.map((p) => `${p} (LOCAL_SIGN_IN=true signs tokens with the router's JWT_SECRET)`));
  }
}

/** Error codes of the answers, as in the API's `extensions.code`. */
type LocalTokenCode = 'BAD_REQUEST' | 'BAD_USER_INPUT' | 'FORBIDDEN' | 'NOT_FOUND';

function send(res: ServerResponse, status: number, body: { code?: LocalTokenCode } & Record<string, unknown>): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

class BodyTooLarge extends Error {}

/** The host of an `Origin` header; undefined for `null` or anything else that is not a URL (refused as cross-origin). */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

async function readJson(req: IncomingMessage, limit = 4096): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

const ID = /^[A-Za-z0-9_.@-]{1,64}$/;

/**
 * Where local sign-in is off: `/local-token` answers 404 (JSON, code
 * `NOT_FOUND`), so the page offers no one-click sign-in; `next()` for every
 * other path.
 */
export function localSignInOff(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  if ((req.url ?? '').split('?')[0] !== LOCAL_TOKEN_PATH) return next();
  send(res, 404, { code: 'NOT_FOUND', error: 'local sign-in is off on this server' });
}

/** The minting handler (local sign-in on, with this secret); `next()` is called for every other path. */
export function localTokenHandler(secret: string, expiresIn = '8h') {
  return async (req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== LOCAL_TOKEN_PATH) return next();
    // Same-origin only: a page elsewhere must not mint tokens from a developer's machine.
    const origin = req.headers.origin;
    if (origin && req.headers.host && originHost(origin) !== req.headers.host) {
      return send(res, 403, { code: 'FORBIDDEN', error: 'cross-origin requests are refused' });
    }
    if (req.method === 'GET') return send(res, 200, { enabled: true });
    if (req.method !== 'POST') {
      res.setHeader('allow', 'GET, POST');
      return send(res, 405, { code: 'BAD_REQUEST', error: 'use POST to sign in, GET to ask whether local sign-in is on' });
    }
    let body: { role?: unknown; sub?: unknown; storeId?: unknown };
    try {
      const parsed = await readJson(req);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return send(res, 400, { code: 'BAD_REQUEST', error: 'the body must be a JSON object {role, sub, storeId?}' });
      }
      body = parsed;
    } catch (err) {
      if (err instanceof BodyTooLarge) return send(res, 413, { code: 'BAD_REQUEST', error: 'body too large (at most 4096 bytes)' });
      return send(res, 400, { code: 'BAD_REQUEST', error: 'malformed JSON' });
    }
    const role = (typeof body.role === 'string' ? body.role : '').toUpperCase() as UserRole;
    if (!USER_ROLES.includes(role)) {
      return send(res, 400, { code: 'BAD_USER_INPUT', field: 'role', error: `role must be one of ${USER_ROLES.join(', ')}` });
    }
    if (typeof body.sub !== 'string' || !ID.test(body.sub)) {
      return send(res, 400, { code: 'BAD_USER_INPUT', field: 'sub', error: 'user id: 1 to 64 of letters, digits, _ . @ -' });
    }
    let storeId: string | undefined;
    if (role === 'STAFF') {
      if (typeof body.storeId !== 'string' || !ID.test(body.storeId)) {
        return send(res, 400, { code: 'BAD_USER_INPUT', field: 'storeId', error: 'staff need a store id (1 to 64 of letters, digits, _ . @ -)' });
      }
      storeId = body.storeId;
    }
    const { signUserToken } = await loadAuth();
    const token = await signUserToken({ sub: body.sub, role, ...(storeId ? { storeId } : {}) }, { secret, expiresIn });
    send(res, 200, { token });
  };
}

/**
 * Vite plugin: on the dev server only, minting as `localSignInFromEnv(source)`
 * decides (LOCAL_SIGN_IN=true, JWT_SECRET, not NODE_ENV=production); where it is
 * off, `/local-token` answers 404. A bad value stops the dev server with the
 * variable named.
 */
export function localSignIn(source: Record<string, string | undefined>): Plugin {
  return {
    name: 'rental-local-sign-in',
    apply: 'serve',
    async configureServer(server) {
      const local = await localSignInFromEnv(source);
      if (!local.on) {
        if (local.reason) server.config.logger.warn(`[local sign-in] ${local.reason}`);
        server.middlewares.use(localSignInOff);
        return;
      }
      server.config.logger.info(`[local sign-in] LOCAL-ONLY token minting on ${LOCAL_TOKEN_PATH} (development only)`);
      const handle = localTokenHandler(local.secret);
      server.middlewares.use((req, res, next) => void handle(req, res, next).catch(next));
    },
  };
}
