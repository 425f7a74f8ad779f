/**
 * The container set-up, checked without a Docker engine: the one Dockerfile
 * is parsed for the rules the images must meet (multi-stage from
 * node:20-bookworm-slim, build arguments declared where used, non-root,
 * health check, port, NODE_ENV=production, SIGTERM, a CMD that runs the
 * bundle its ENTRY names); the compose file and the CI image builds pass each
 * deployable the build arguments infra/docker/deployables.ts gives it, naming
 * a bundle infra/build/bundle.ts writes; .dockerignore keeps artefacts and
 * secrets out; the compose file runs every deployable with every setting its
 * code reads; and the web image's static server is run for real (static
 * files, SPA fallback, /graphql proxied over HTTP and WebSocket, drain on
 * SIGTERM).
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
import { expectedEnv, loadShape } from '../k8s/checks.js';
import { DEPLOYABLES, imageBuildOf, WORKER_HEALTH_ENV } from './deployables.js';

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

/** Docker's `${NAME}` / `$NAME` substitution with the given values (unset: empty). */
function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => values[(a ?? b)!] ?? '');
}

/** `ENV a=b c=d` (unquoted pairs, as ours are) into pairs, keys and values substituted. */
function envPairs(args: string, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    args.split(/\s+/).map((pair) => {
      const eq = pair.indexOf('=');
      return [substitute(pair.slice(0, eq), values), substitute(pair.slice(eq + 1), values)];
    }),
  );
}

describe('infra/docker/Dockerfile', () => {
  const text = fs.readFileSync(path.join(HERE, 'Dockerfile'), 'utf8');
  const { preamble, stages } = parseDockerfile(text);
  const stage = (name: string) => stages.find((s) => s.name === name)!;
  const ops = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op).map((i) => i.args);

  it('is the only Dockerfile', () => {
    expect(fs.readdirSync(HERE).filter((f) => /dockerfile/i.test(f))).toEqual(['Dockerfile']);
  });

  it('is multi-stage, every stage from node:20-bookworm-slim or an earlier stage, copying files that exist', () => {
    expect(preamble.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args).toBe('NODE_IMAGE=node:20-bookworm-slim');
    expect(stages.map((s) => s.name)).toEqual(['base', 'manifests', 'deps', 'build', 'prod-deps', 'web', 'node']);
    const seen = new Set<string>();
    for (const s of stages) {
      expect(s.from === '${NODE_IMAGE}' || seen.has(s.from), `FROM ${s.from}`).toBe(true);
      for (const c of ops(s, 'COPY')) {
        const from = /--from=(\S+)/.exec(c)?.[1];
        if (from) expect(seen.has(from), `COPY --from=${from}`).toBe(true);
        else {
          const src = c.split(/\s+/).filter((x) => !x.startsWith('--')).slice(0, -1);
          for (const p of src) if (p !== '.') expect(fs.existsSync(path.join(ROOT, p)), p).toBe(true);
        }
      }
      if (s.name) seen.add(s.name);
    }
  });

  it('declares every build argument in each stage that uses it (an ARG ends with its stage)', () => {
    const envOf = new Map<string, Set<string>>();
    for (const s of stages) {
      const known = new Set([...(envOf.get(s.from) ?? []), ...ops(s, 'ARG').map((a) => a.split('=')[0]!)]);
      for (const e of ops(s, 'ENV')) for (const pair of e.split(/\s+/)) if (!pair.startsWith('$')) known.add(pair.split('=')[0]!);
      for (const i of s.instructions.filter((x) => !['ARG', 'HEALTHCHECK'].includes(x.op))) {
        for (const m of i.args.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)) expect(known.has(m[1]!), `${s.name}: ${i.op} ${i.args} uses ${m[1]}`).toBe(true);
      }
      if (s.name) envOf.set(s.name, new Set([...known].filter((k) => !ops(s, 'ARG').some((a) => a.split('=')[0] === k))));
    }
  });

  it('installs all dependencies once for every deployable, then builds the workspace and ships only its production dependencies', () => {
    // No build argument before the shared dependency layer: it is the same for all nine images.
    for (const name of ['base', 'manifests', 'deps']) expect(ops(stage(name), 'ARG'), name).toEqual([]);
    expect(ops(stage('deps'), 'RUN').join('\n')).toMatch(/(^|\s)npm-ci$/m);
    expect(ops(stage('build'), 'RUN')).toContain('npm run build --workspace="$WORKSPACE"');
    expect(ops(stage('prod-deps'), 'RUN').join('\n')).toContain('npm-ci --omit=dev --workspace="$WORKSPACE"');
    expect(ops(stage('node'), 'COPY')).toContain('--from=prod-deps /app/node_modules ./node_modules');
    for (const d of DEPLOYABLES) {
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, d.workspace, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
      expect(pkg.scripts?.build, `${d.workspace}/package.json has a build script`).toBeTruthy();
    }
  });

  it.each(['web', 'node'])('runtime %s: the non-root node user, NODE_ENV=production, its port, a health check on it and SIGTERM', (name) => {
    const s = stage(name);
    expect(s.from).toBe('${NODE_IMAGE}');
    expect(ops(s, 'USER').at(-1)).toBe('node');
    const env = envPairs(ops(s, 'ENV').join(' '), { PORT_ENV: 'X_PORT', PORT: '1234' });
    expect(env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', APP_PORT_ENV: 'X_PORT', X_PORT: '1234' });
    expect(ops(s, 'EXPOSE')).toEqual(['${PORT}']);
    expect(ops(s, 'STOPSIGNAL')).toEqual(['SIGTERM']);
    const hc = ops(s, 'HEALTHCHECK');
    expect(hc).toHaveLength(1);
    const cmd = JSON.parse(hc[0]!.replace(/^.*?CMD\s+/, '')) as string[];
    expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
    expect(cmd[2]).toContain("'http://127.0.0.1:' + process.env[process.env.APP_PORT_ENV] + '/healthz'");
  });

  it('the node runtime is the default target and starts $APP_ENTRY as PID 1; the web runtime starts web-server.mjs', () => {
    expect(stages.at(-1)!.name).toBe('node');
    expect(JSON.parse(ops(stage('node'), 'CMD')[0]!)).toEqual(['sh', '-c', 'exec node --enable-source-maps "$APP_ENTRY"']);
    expect(JSON.parse(ops(stage('web'), 'CMD')[0]!)).toEqual(['node', 'web-server.mjs']);
  });

  it.each(DEPLOYABLES.map((d) => [d.name, d] as const))('%s: its build arguments name a bundle infra/build/bundle.ts writes and the port it serves', (_n, d) => {
    const { target, args } = imageBuildOf(d);
    const env = envPairs(ops(stage(target), 'ENV').join(' '), args);
    const [port, portEnv] = d.kind === 'worker' ? [d.healthPort, WORKER_HEALTH_ENV] : [d.port, d.portEnv];
    expect(env[portEnv!]).toBe(String(port));
    if (target === 'web') {
      expect(ops(stage('web'), 'COPY').map((c) => substitute(c, args))).toContain(`--from=build /app/${d.workspace}/${d.entry} ./public`);
      return;
    }
    expect(env.APP_ENTRY).toBe(`${d.workspace}/${d.entry}`);
    expect(ops(stage('node'), 'COPY').map((c) => substitute(c, args))).toContain(`--from=build /app/${d.workspace}/dist ./${d.workspace}/dist`);
    // The bundle an entry names: bundle.ts writes dist/<out>.js for each entry the workspace has.
    const written = defaultEntries(path.join(ROOT, d.workspace)).map((e) => `dist/${e.out}.js`);
    expect(written, `${d.workspace} has a src entry for ${d.entry}`).toContain(d.entry);
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

  it.each(DEPLOYABLES.map((d) => [d.name, d] as const))('runs %s built from the one Dockerfile with its arguments, health-checked, after what it needs is healthy', async (_n, d) => {
    const s = svc[d.name];
    expect(s, `service ${d.name}`).toBeDefined();
    const build = s!.build as { context: string; dockerfile: string; target: string; args: Record<string, string> };
    expect(build.context).toBe('..');
    expect(build.dockerfile).toBe('infra/docker/Dockerfile');
    const { target, args } = imageBuildOf(d);
    expect({ target: build.target, args: build.args }).toEqual({ target, args });
    expect((s!.healthcheck as { test: string[] }).test[0]).toBe('CMD');
    const deps = s!.depends_on as Record<string, { condition: string }>;
    expect(Object.keys(deps).length).toBeGreaterThan(0);
    for (const [dep, v] of Object.entries(deps)) {
      expect(v.condition, `${d.name} → ${dep}`).toBe('service_healthy');
      expect(svc[dep]?.healthcheck ?? dep, `${dep} has a healthcheck`).toBeTruthy();
    }
    const shape = await loadShape(d, ROOT);
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

describe('CI image builds (.github/workflows/ci.yml)', () => {
  type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
  type Job = { steps: Step[]; strategy?: { matrix: { include?: Record<string, string>[] } } };
  const wf = parse(fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'ci.yml'), 'utf8')) as { jobs: Record<string, Job> };
  const build = Object.values(wf.jobs).find((j) => j.steps.some((s) => s.uses?.startsWith('docker/build-push-action@')))!;
  const push = build?.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'));

  it('builds every deployable from the one Dockerfile, with the target and build arguments its matrix entry gives', () => {
    expect(push, 'a job uses docker/build-push-action').toBeDefined();
    expect(push!.with?.file).toBe('infra/docker/Dockerfile');
    expect(push!.with?.target).toBe('${{ matrix.target }}');
    const buildArgs = String(push!.with?.['build-args']).trim().split('\n').map((l) => l.trim());
    expect(buildArgs).toEqual(['WORKSPACE=${{ matrix.workspace }}', 'ENTRY=${{ matrix.entry }}', 'PORT=${{ matrix.port }}', 'PORT_ENV=${{ matrix.port_env }}']);
    const include = build.strategy?.matrix.include ?? [];
    expect(include.map((e) => e.deployable).sort()).toEqual(DEPLOYABLES.map((d) => d.name).sort());
    for (const d of DEPLOYABLES) {
      const e = include.find((x) => x.deployable === d.name)!;
      const { target, args } = imageBuildOf(d);
      const passed = Object.fromEntries(
        Object.entries({ WORKSPACE: e.workspace, ENTRY: e.entry, PORT: e.port, PORT_ENV: e.port_env }).filter(([, v]) => v !== undefined && v !== ''),
      );
      expect({ target: e.target, args: passed }, d.name).toEqual({ target, args });
    }
  });

  it('builds on every run, and pushes tagged with the commit on main only', () => {
    expect(String(push!.with?.push)).toMatch(/github\.event_name == 'push' && github\.ref == 'refs\/heads\/main'/);
    expect(String(push!.with?.tags)).toMatch(/steps\.image\.outputs\.name \}\}:\$\{\{ github\.sha \}\}/);
    expect(build.steps.map((s) => s.run ?? '').join('\n')).toMatch(/ghcr\.io\/\$\{GITHUB_REPOSITORY,,\}\/\$\{\{ matrix\.deployable \}\}/);
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
    wss.on('connection', (socket) => socket.on('message', (m) => socket.send(`echo:${(m as Buffer).toString('utf8')}:${socket.protocol}`)));
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
      ws.on('message', (m) => resolve((m as Buffer).toString('utf8')));
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
