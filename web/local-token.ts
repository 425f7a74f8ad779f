/**
 * LOCAL-ONLY sign-in: a tiny connect-style middleware answering
 * `POST /local-token {role, sub, storeId?}` with a freshly signed user JWT.
 *
 * It exists for development and for the browser tests, never in production:
 * - the Vite plugin below registers it only on the dev server (`apply: 'serve'`)
 *   and only when `LOCAL_SIGN_IN=true` and `JWT_SECRET` are set;
 * - `vite build` output never contains it (it is server code; the bundle only
 *   holds a `fetch('/local-token')` that answers 404 anywhere else);
 * - `serve.ts` mounts it only when its caller passes a secret explicitly (tests).
 * The router never mints tokens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'vite';
import type { UserRole } from '@rental/auth';

// @rental/auth is TypeScript source: imported lazily, only when local sign-in is
// on (the dev script runs Vite with the tsx loader for that), so `vite build`
// and a dev server without local sign-in never load it.
const loadAuth = () => import('@rental/auth');
const USER_ROLES: readonly UserRole[] = ['CUSTOMER', 'STAFF', 'ADMIN'];

export const LOCAL_TOKEN_PATH = '/local-token';

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage, limit = 4096): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

const ID = /^[A-Za-z0-9_.@-]{1,64}$/;

/** Returns a handler; `next()` is called for every other path. */
export function localTokenHandler(secret: string, expiresIn = '8h') {
  return async (req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== LOCAL_TOKEN_PATH) return next();
    // Same-origin only: a page elsewhere must not mint tokens from a developer's machine.
    const origin = req.headers.origin;
    if (origin && req.headers.host && new URL(origin).host !== req.headers.host) {
      return send(res, 403, { error: 'cross-origin requests are refused' });
    }
    if (req.method === 'GET') return send(res, 200, { enabled: true });
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
    let body: { role?: unknown; sub?: unknown; storeId?: unknown };
    try {
      body = (await readJson(req)) as typeof body;
    } catch {
      return send(res, 400, { error: 'malformed JSON' });
    }
    const role = String(body.role ?? '').toUpperCase() as UserRole;
    if (!USER_ROLES.includes(role)) return send(res, 400, { field: 'role', error: `role must be one of ${USER_ROLES.join(', ')}` });
    if (typeof body.sub !== 'string' || !ID.test(body.sub)) {
      return send(res, 400, { field: 'sub', error: 'user id: 1 to 64 of letters, digits, _ . @ -' });
    }
    let storeId: string | undefined;
    if (role === 'STAFF') {
      if (typeof body.storeId !== 'string' || !ID.test(body.storeId)) {
        return send(res, 400, { field: 'storeId', error: 'staff need a store id (1 to 64 of letters, digits, _ . @ -)' });
      }
      storeId = body.storeId;
    }
    const { signUserToken } = await loadAuth();
    const token = await signUserToken({ sub: body.sub, role, ...(storeId ? { storeId } : {}) }, { secret, expiresIn });
    send(res, 200, { token });
  };
}

/** Vite plugin: dev server only, and only with LOCAL_SIGN_IN=true and JWT_SECRET. */
export function localSignIn(env: Record<string, string | undefined>): Plugin {
  return {
    name: 'rental-local-sign-in',
    apply: 'serve',
    configureServer(server) {
      if (env.LOCAL_SIGN_IN !== 'true') return;
      const secret = env.JWT_SECRET;
      if (!secret) {
        server.config.logger.warn('[local sign-in] LOCAL_SIGN_IN=true but JWT_SECRET is not set: /local-token is off');
        return;
      }
      server.config.logger.info('[local sign-in] LOCAL-ONLY token minting on /local-token (development only)');
      const handle = localTokenHandler(secret);
      server.middlewares.use((req, res, next) => void handle(req, res, next).catch(next));
    },
  };
}
