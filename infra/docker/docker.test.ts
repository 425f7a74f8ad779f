/**
 * The container set-up, checked without a Docker engine: the Dockerfiles are
 * what generate.ts writes and are parsed for the rules the images must meet
 * (multi-stage from node:20-bookworm-slim, non-root, health check, port,
 * NODE_ENV=production, SIGTERM, a CMD that runs the deployable's bundle);
 * .dockerignore keeps artefacts and secrets out; the compose file runs every
 * deployable with every setting its code reads; and the web image's static
 * server is run for real (static files, SPA fallback, /graphql proxied over
 * HTTP and WebSocket, drain on SIGTERM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { parse } from 'yaml';
import { defaultEntries } from '../build/bundle.js';
import { expectedEnv } from '../k8s/checks.js';
import { loadShape } from '../k8s/generate.js';
import { DEPLOYABLES, WORKER_HEALTH_ENV, type Deployable } from './deployables.js';
import { dockerfilePath, NODE_IMAGE, renderDockerfile } from './generate.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Parses a Dockerfile into instructions (continuations joined, comments dropped) and stages. */
export function parseDockerfile(text: string): { preamble: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && cur === '') continue;
    if (/^\s*#/.test(raw)) continue; // comment inside a continuation
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      cur += `${line.slice(0, -1)} `;
      continue;
    }
    cur += line;
    if (cur.trim()) logical.push(cur.trim());
    cur = '';
  }
  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\w+)\s+(.*)$/s.exec(l);
    if (!m) throw new Error(`cannot parse "${l}"`);
    const ins = { op: m[1]!.toUpperCase(), args: m[2]! };
    if (ins.op === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!f) throw new Error(`bad FROM "${ins.args}"`);
      stages.push({ from: f[1]!, name: f[2], instructions: [] });
    } else if (stages.length === 0) preamble.push(ins);
    else stages[stages.length - 1]!.instructions.push(ins);
  }
  return { preamble, stages };
}

describe.each(DEPLOYABLES.map((d) => [d.name, d] as const))('%s.Dockerfile', (_name, d: Deployable) => {
  const text = fs.readFileSync(dockerfilePath(d), 'utf8');
  const { preamble, stages } = parseDockerfile(text);
  const final = stages[stages.length - 1]!;
  const ops = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op).map((i) => i.args);

  it('is what generate.ts writes', () => {
    expect(text, 'run `npx tsx infra/docker/generate.ts`').toBe(renderDockerfile(d));
  });

  it('is multi-stage, every stage from node:20-bookworm-slim or an earlier stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    const arg = preamble.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    expect(arg?.args).toBe(`NODE_IMAGE=${NODE_IMAGE}`);
    expect(NODE_IMAGE).toBe('node:20-bookworm-slim');
    const seen = new Set<string>();
    for (const s of stages) {
      expect(s.from === '${NODE_IMAGE}' || seen.has(s.from), `FROM ${s.from}`).toBe(true);
      if (s.name) seen.add(s.name);
    }
    for (const s of stages) {
      for (const c of ops(s, 'COPY')) {
        const from = /--from=(\S+)/.exec(c)?.[1];
        if (from) expect(seen.has(from), `COPY --from=${from}`).toBe(true);
        else {
          // Build-context sources must exist (and not be ignored).
          const src = c.split(/\s+/).filter((x) => !x.startsWith('--')).slice(0, -1);
          for (const p of src) if (p !== '.') expect(fs.existsSync(path.join(ROOT, p)), p).toBe(true);
        }
      }
    }
  });

  it('installs with npm ci, builds the workspace, and ships only production dependencies', () => {
    const runs = stages.flatMap((s) => ops(s, 'RUN')).join('\n');
    expect(runs).toMatch(/(^|\s)npm-ci(\s|$)/m);
    expect(runs).toContain(`npm run build --workspace=${d.workspace}`);
    if (d.kind !== 'web') {
      expect(runs).toContain(`npm-ci --omit=dev --workspace=${d.workspace}`);
      expect(ops(final, 'COPY').join('\n')).toMatch(/--from=prod-deps \/app\/node_modules/);
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, d.workspace, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    expect(pkg.scripts?.build, `${d.workspace}/package.json has a build script`).toBeTruthy();
  });

  it('runs as the non-root node user with NODE_ENV=production, a health check, its port and SIGTERM', () => {
    expect(final.from).toBe('${NODE_IMAGE}');
    const user = ops(final, 'USER');
    expect(user.at(-1)).toBe('node');
    expect(ops(final, 'ENV').join(' ')).toMatch(/\bNODE_ENV=production\b/);
    expect(ops(final, 'ENV').join(' ')).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(ops(final, 'STOPSIGNAL')).toEqual(['SIGTERM']);
    const hc = ops(final, 'HEALTHCHECK');
    expect(hc).toHaveLength(1);
    const cmd = JSON.parse(hc[0]!.replace(/^.*?CMD\s+/, '')) as string[];
    expect(cmd[0]).toBe('node');
    if (d.kind === 'worker' && !d.healthPort) {
      expect(ops(final, 'EXPOSE')).toEqual([]);
      expect(cmd.join(' ')).toContain('process.kill(1, 0)');
    } else if (d.kind === 'worker') {
      expect(ops(final, 'EXPOSE')).toEqual([String(d.healthPort)]);
      expect(ops(final, 'ENV').join(' ')).toContain(`${WORKER_HEALTH_ENV}=${d.healthPort}`);
      expect(cmd.join(' ')).toContain('/healthz');
      expect(cmd.join(' ')).toContain(`process.env.${WORKER_HEALTH_ENV} || ${d.healthPort}`);
    } else {
      expect(ops(final, 'EXPOSE')).toEqual([String(d.port)]);
      expect(cmd.join(' ')).toContain('/healthz');
      expect(cmd.join(' ')).toContain(`process.env.${d.portEnv} || ${d.port}`);
    }
  });

  it('starts the bundle of an entry the workspace has', () => {
    const cmd = JSON.parse(ops(final, 'CMD')[0]!) as string[];
    expect(cmd[0]).toBe('node');
    if (d.kind === 'web') {
      expect(cmd).toEqual(['node', 'web-server.mjs']);
      return;
    }
    expect(cmd.at(-1)).toBe(`${d.workspace}/${d.entry}`);
    const out = path.basename(d.entry, '.js');
    const entries = defaultEntries(path.join(ROOT, d.workspace));
    // A worker entry that is still being written is reported, not hidden.
    expect(entries.map((e) => e.out), `${d.workspace} has a src entry for ${out}`).toContain(out);
  });
});

describe('.dockerignore', () => {
  it('keeps installed and built files, VCS data and secrets out of the build context', () => {
    const lines = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['**/node_modules', '**/dist', '.git', '**/.env', '.data', 'infra/docker/secrets.env', 'infra/k8s/overlays/*/secrets.env']) expect(lines).toContain(p);
  });
});

describe('infra/docker-compose.yml', () => {
  const compose = parse(fs.readFileSync(path.join(ROOT, 'infra', 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Record<string, unknown>>;
    volumes: Record<string, unknown>;
  };
  const svc = compose.services;

  function envOf(s: Record<string, unknown>): Set<string> {
    const names = new Set<string>();
    for (const f of (s.env_file as string[] | undefined) ?? []) {
      let file = path.join(ROOT, 'infra', f);
      if (!fs.existsSync(file) && fs.existsSync(`${file}.example`)) file = `${file}.example`; // secrets.env is gitignored
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const m = /^([A-Z][A-Z0-9_]*)=/.exec(line.trim());
        if (m) names.add(m[1]!);
      }
    }
    const env = s.environment as Record<string, string> | string[] | undefined;
    if (Array.isArray(env)) for (const e of env) names.add(e.split('=')[0]!);
    else for (const k of Object.keys(env ?? {})) names.add(k);
    return names;
  }

  it('runs MongoDB 7 and Redis 7 (append-only) on volumes', () => {
    expect(svc.mongo?.image).toBe('mongo:7');
    expect(String(svc.mongo?.volumes)).toMatch(/mongo-data:\/data\/db/);
    expect(svc.redis?.image).toBe('redis:7');
    expect((svc.redis?.command as string[]).join(' ')).toMatch(/--appendonly yes/);
    expect(String(svc.redis?.volumes)).toMatch(/redis-data:\/data/);
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['mongo-data', 'redis-data']));
  });

  it.each(DEPLOYABLES.map((d) => [d.name, d] as const))('runs %s from its Dockerfile, health-checked, after what it needs is healthy', async (_n, d) => {
    const s = svc[d.name];
    expect(s, `service ${d.name}`).toBeDefined();
    expect((s!.build as { dockerfile: string }).dockerfile).toBe(`infra/docker/${d.name}.Dockerfile`);
    expect((s!.build as { context: string }).context).toBe('..');
    expect((s!.healthcheck as { test: string[] }).test[0]).toBe('CMD');
    const deps = s!.depends_on as Record<string, { condition: string }>;
    expect(Object.keys(deps).length).toBeGreaterThan(0);
    for (const [dep, v] of Object.entries(deps)) {
      expect(v.condition, `${d.name} → ${dep}`).toBe('service_healthy');
      expect(svc[dep]?.healthcheck ?? dep, `${dep} has a healthcheck`).toBeTruthy();
    }
    const shape = await loadShape(d);
    const have = envOf(s!);
    const missing = expectedEnv(d, shape ? Object.keys(shape) : undefined, ROOT).filter((k) => !have.has(k));
    expect(missing, `settings ${d.name} reads that compose does not give it`).toEqual([]);
  });

  it('publishes the router on 4000 and the web client on 8080', () => {
    expect(svc.router?.ports).toEqual(['4000:4000']);
    expect(svc.web?.ports).toEqual(['8080:8080']);
    expect(Object.keys(svc.router?.depends_on as object).sort()).toEqual(['items', 'rentals', 'reservations', 'stores']);
  });
});

describe('web-server.mjs (the web image server)', () => {
  let dir: string;
  let upstream: http.Server;
  let wss: WebSocketServer;
  let server: ChildProcess;
  let base: string;
  let log = '';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-server-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>app</title>');
    fs.writeFileSync(path.join(dir, 'assets', 'app-123.js'), 'console.log(1)');
    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, url: req.url, auth: req.headers.authorization ?? null, body }));
      });
    });
    wss = new WebSocketServer({ server: upstream, path: '/graphql' });
    wss.on('connection', (socket) => socket.on('message', (m) => socket.send(`echo:${String(m)}:${socket.protocol}`)));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upPort = (upstream.address() as { port: number }).port;
    server = spawn(process.execPath, [path.join(HERE, 'web-server.mjs')], {
      env: { PATH: process.env.PATH ?? '', WEB_PORT: '0', HOST: '127.0.0.1', STATIC_DIR: dir, ROUTER_URL: `http://127.0.0.1:${upPort}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    base = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`web-server did not start: ${log}`)), 10_000);
      server.stdout!.on('data', (c: Buffer) => {
        log += c.toString();
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/"/.exec(log);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
  });

  afterAll(async () => {
    if (server?.exitCode === null) server.kill('SIGKILL');
    wss?.close();
    await new Promise((r) => upstream?.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves files, the app for client-side routes, 404 for a missing asset, and health', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>app</title>');
    const route = await fetch(`${base}/reservations/abc`);
    expect(route.status).toBe(200);
    expect(route.headers.get('content-type')).toMatch(/text\/html/);
    const asset = await fetch(`${base}/assets/app-123.js`);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('proxies /graphql over HTTP with headers and body', async () => {
    const res = await fetch(`${base}/graphql?x=1`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{"query":"{a}"}' });
    expect(await res.json()).toEqual({ method: 'POST', url: '/graphql?x=1', auth: 'Bearer t', body: '{"query":"{a}"}' });
  });

  it('proxies the /graphql WebSocket with its subprotocol', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (m) => resolve(String(m)));
      ws.on('error', reject);
    });
    ws.close();
    expect(reply).toBe('echo:hello:graphql-transport-ws');
  });

  it('exits 0 on SIGTERM', async () => {
    const code = await new Promise<number | null>((resolve) => {
      server.once('exit', resolve);
      server.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
