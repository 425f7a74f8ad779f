/**
 * Local sign-in is never offered in production: web/serve.ts run as a process
 * (as `npm start` and `npm run serve -w web` run it) with NODE_ENV=production
 * answers 404 on /local-token even with LOCAL_SIGN_IN=true and a JWT_SECRET,
 * and the production bundle in Debian's Chromium shows no one-click buttons.
 * The same build served by the same file in development shows them (so the
 * check can fail). Also: the Vite dev server's plugin in production mode
 * answers 404 too, a bad LOCAL_SIGN_IN stops serve.ts with the variable named,
 * and where it mints, bad requests get a status and a stable code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type ViteDevServer } from 'vite';
import type { Browser } from 'playwright-core';
import { freePort } from '../../infra/local/ports.ts';
import { waitForHttpOk } from '../../infra/local/supervisor.ts';
import { requireEnv } from '../../test/support/stack.ts';
import { localSignIn } from '../local-token.ts';
import { launchBrowser, screenshot } from './browser.ts';
import { buildWeb } from './stack.ts';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUTTONS = ['demo customer', 'staff of S1', 'admin'];

interface ServeProcess {
  url: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/** Runs `node --import tsx web/serve.ts` with `env` on top of this process's environment. */
function runServe(env: NodeJS.ProcessEnv, port: number, distDir: string): ServeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(webDir, 'serve.ts')], {
    cwd: webDir,
    env: { ...process.env, WEB_DIST_DIR: distDir, WEB_PORT: String(port), ROUTER_URL: 'http://127.0.0.1:9', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const s of [child.stdout, child.stderr]) s?.setEncoding('utf8').on('data', (c: string) => output.push(c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { url: `http://127.0.0.1:${port}`, child, output, exited };
}

async function startServe(env: NodeJS.ProcessEnv, distDir: string): Promise<ServeProcess> {
  const serve = runServe(env, await freePort(), distDir);
  if (!(await waitForHttpOk(`${serve.url}/readyz`, 30_000, () => serve.child.exitCode !== null))) {
    throw new Error(`serve.ts did not get ready:\n${serve.output.join('')}`);
  }
  return serve;
}

async function stopServe(serve: ServeProcess | undefined): Promise<void> {
  if (!serve || serve.child.exitCode !== null) return;
  serve.child.kill('SIGTERM');
  await serve.exited;
}

/** What a `/local-token` request answers: status and JSON body (undefined when not JSON). */
async function localToken(origin: string, method: 'GET' | 'POST'): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const res = await fetch(`${origin}/local-token`, {
    method,
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: JSON.stringify({ role: 'ADMIN', sub: 'mallory' }) } : {}),
  });
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

let distDir: string;
let browser: Browser;
let production: ServeProcess | undefined;
let development: ServeProcess | undefined;
const secret = requireEnv('JWT_SECRET');

beforeAll(async () => {
  distDir = buildWeb();
  browser = await launchBrowser();
  [production, development] = await Promise.all([
    startServe({ NODE_ENV: 'production', LOCAL_SIGN_IN: 'true', JWT_SECRET: secret }, distDir),
    startServe({ NODE_ENV: 'development', LOCAL_SIGN_IN: 'true', JWT_SECRET: secret }, distDir),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([stopServe(production), stopServe(development)]);
  if (distDir) fs.rmSync(distDir, { recursive: true, force: true });
});

describe('local sign-in and NODE_ENV=production', () => {
  it('serve.ts in production answers 404 on /local-token (GET and POST) and says why at start', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const { status, body } = await localToken(production!.url, method);
      expect(status, method).toBe(404);
      expect(body, method).toEqual({ code: 'NOT_FOUND', error: 'local sign-in is off on this server' });
    }
    expect(production!.output.join('')).toContain('LOCAL_SIGN_IN=true is ignored with NODE_ENV=production: /local-token answers 404');
  });

  it('the same serve.ts in development mints (the control)', async () => {
    expect(await localToken(development!.url, 'GET')).toEqual({ status: 200, body: { enabled: true } });
    const minted = await localToken(development!.url, 'POST');
    expect(minted.status).toBe(200);
    expect(String(minted.body?.token).split('.')).toHaveLength(3);
  });

  it('the production page shows no one-click buttons; the development page does', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const probed = page.waitForResponse((r) => new URL(r.url()).pathname === '/local-token');
    await page.goto(production!.url);
    expect((await probed).status()).toBe(404);
    await page.getByRole('heading', { name: 'Sign in with a token' }).waitFor();
    await page.getByRole('button', { name: 'Use this token' }).waitFor();
    for (const name of BUTTONS) expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    expect(await page.getByRole('heading', { name: 'Sign in with one click' }).count()).toBe(0);
    await screenshot(page, 'production-sign-in');

    await page.goto(development!.url);
    await page.getByRole('heading', { name: 'Sign in with one click' }).waitFor();
    for (const name of BUTTONS) expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(1);
    await context.close();
  });

  it('the Vite dev server plugin answers 404 with NODE_ENV=production and mints without it', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rental-vite-'));
    const servers: Array<{ vite: ViteDevServer; http: http.Server }> = [];
    const origin = async (nodeEnv: string) => {
      const vite = await createServer({
        configFile: false,
        root,
        logLevel: 'silent',
        appType: 'custom',
        optimizeDeps: { noDiscovery: true, include: [] },
        server: { middlewareMode: true, hmr: false, ws: false },
        plugins: [localSignIn({ NODE_ENV: nodeEnv, LOCAL_SIGN_IN: 'true', JWT_SECRET: secret })],
      });
      const server = http.createServer(vite.middlewares);
      servers.push({ vite, http: server });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    try {
      const prod = await origin('production');
      expect(await localToken(prod, 'GET')).toEqual({ status: 404, body: { code: 'NOT_FOUND', error: 'local sign-in is off on this server' } });
      expect((await localToken(prod, 'POST')).status).toBe(404);
      const dev = await origin('development');
      expect(await localToken(dev, 'GET')).toEqual({ status: 200, body: { enabled: true } });
    } finally {
      for (const s of servers) {
        await new Promise<void>((resolve) => s.http.close(() => resolve()));
        await s.vite.close();
      }
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it.each([
    ['LOCAL_SIGN_IN=yes', { LOCAL_SIGN_IN: 'yes', JWT_SECRET: secret }, 'LOCAL_SIGN_IN:'],
    ['LOCAL_SIGN_IN=true without JWT_SECRET', { LOCAL_SIGN_IN: 'true', JWT_SECRET: '' }, "JWT_SECRET: is required but not set (LOCAL_SIGN_IN=true signs tokens with the router's JWT_SECRET)"],
  ])('serve.ts refuses to start with %s, naming the variable', async (_case, env, message) => {
    const serve = runServe({ NODE_ENV: 'development', ...env }, await freePort(), distDir);
    expect(await serve.exited).toBe(1);
    expect(serve.output.join('')).toContain(message);
  });
});

describe('local sign-in refuses bad requests with a stable code', () => {
  const ask = async (init: { method?: string; body?: string; origin?: string }) => {
    const res = await fetch(`${development!.url}/local-token`, {
      method: init.method ?? 'POST',
      headers: { 'content-type': 'application/json', ...(init.origin ? { origin: init.origin } : {}) },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    return { status: res.status, body: (await res.json()) as { code?: string; field?: string; token?: string } };
  };

  it.each([
    ['an unknown role', { body: '{"role":"boss","sub":"x"}' }, 400, 'BAD_USER_INPUT', 'role'],
    ['no user id', { body: '{"role":"CUSTOMER"}' }, 400, 'BAD_USER_INPUT', 'sub'],
    ['a user id with a space', { body: '{"role":"CUSTOMER","sub":"a b"}' }, 400, 'BAD_USER_INPUT', 'sub'],
    ['staff without a store', { body: '{"role":"STAFF","sub":"sam"}' }, 400, 'BAD_USER_INPUT', 'storeId'],
    ['malformed JSON', { body: '{"role":' }, 400, 'BAD_REQUEST', undefined],
    ['a JSON array', { body: '[]' }, 400, 'BAD_REQUEST', undefined],
    ['a body over 4 KB', { body: JSON.stringify({ role: 'CUSTOMER', sub: 'x', pad: 'x'.repeat(5000) }) }, 413, 'BAD_REQUEST', undefined],
    ['PUT', { method: 'PUT', body: '{}' }, 405, 'BAD_REQUEST', undefined],
    ['another origin', { origin: 'http://evil.example', body: '{"role":"ADMIN","sub":"x"}' }, 403, 'FORBIDDEN', undefined],
    ['Origin: null', { origin: 'null', body: '{"role":"ADMIN","sub":"x"}' }, 403, 'FORBIDDEN', undefined],
  ] as const)('%s', async (_case, init, status, code, field) => {
    const res = await ask(init);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(res.body.field).toBe(field);
    expect(res.body.token).toBeUndefined();
  });

  it('a staff token names its store', async () => {
    const res = await ask({ body: '{"role":"staff","sub":"sam","storeId":"S1"}' });
    expect(res.status).toBe(200);
    const claims = JSON.parse(Buffer.from(res.body.token!.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'sam', role: 'STAFF', storeId: 'S1' });
  });
});
