/**
 * The database choice on a machine without network, mongod or Go, run for
 * real in child processes: PATH holds only `node`, HOME and `.data/` are
 * fresh folders, and mongodb-memory-server's download mirror points at a
 * server of this test (one that never answers, one that serves an archive,
 * or a closed port), so the outcome is the same on a machine with internet.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { goVersionAtLeast } from './ferretdb-build.js';
import { OFFLINE_TTL_MS, type OfflineEntry } from './mongod-download.js';
import { REPO_ROOT } from './paths.js';
import { runCommand } from './proc.js';

let dir: string;
let servers: net.Server[];
/** Every connection to a test server, ended after each test (a server closes only when they end). */
const sockets = new Set<net.Socket>();
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mongod-download-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.symlinkSync(process.execPath, path.join(dir, 'bin', 'node'));
  servers = [];
});
afterEach(async () => {
  const closed = servers.map((s) => new Promise((r) => s.close(r)));
  for (const socket of sockets) socket.destroy();
  await Promise.all(closed);
  fs.rmSync(dir, { recursive: true, force: true });
});

const cacheFile = () => path.join(dir, 'data', 'mongod-download.json');

/** This machine's environment without anything that names a database server, a proxy or a mongodb-memory-server setting. */
function bareEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([k]) => !k.startsWith('MONGOMS_') && k !== 'MONGODB_URI' && !/proxy/i.test(k));
  return {
    ...Object.fromEntries(kept),
    PATH: path.join(dir, 'bin'),
    HOME: path.join(dir, 'home'),
    RENTAL_DATA_DIR: path.join(dir, 'data'),
    MONGOMS_DOWNLOAD_DIR: path.join(dir, 'mongodb-binaries'),
    ...extra,
  };
}

/** Runs `body` (an async function body with `mongo` = mongo.ts) in a child process; returns what it printed as JSON. */
async function inChild<T>(body: string, env: NodeJS.ProcessEnv): Promise<T> {
  const script =
    `const mongo = await import(${JSON.stringify(path.join(REPO_ROOT, 'infra/local/mongo.ts'))});\n` +
    `const result = await (async () => { ${body} })();\n` +
    `console.log('RESULT=' + JSON.stringify(result));\n` +
    'process.exit(0);';
  const { output } = await runCommand(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env,
    timeoutMs: 60_000,
  });
  const line = /^RESULT=(.*)$/m.exec(output)?.[1];
  if (!line) throw new Error(`the child printed no result:\n${output}`);
  return JSON.parse(line) as T;
}

interface Timed {
  ms: number;
  choice: { kind: string; skipped?: string[]; binary?: string; source?: string };
}
const timedChoice = (env: NodeJS.ProcessEnv) =>
  inChild<Timed>('const t = performance.now(); const choice = await mongo.chooseMongo(); return { ms: performance.now() - t, choice };', env);

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

describe('the mongod download step without network', () => {
  it('gives up within 2 s, remembers it, and a later start skips it without any attempt until the entry is stale', async () => {
    // A download host that accepts connections and never answers.
    const held: net.Socket[] = [];
    const port = await listen(net.createServer((socket) => held.push(socket)));
    const env = bareEnv({ MONGOMS_DOWNLOAD_MIRROR: `http://127.0.0.1:${port}` });

    const first = await timedChoice(env);
    expect(first.choice.kind).toBe('ferretdb');
    expect(first.ms).toBeLessThan(2_000);
    expect(first.choice.skipped).toEqual(['MONGODB_URI not set', 'no mongod on PATH', expect.stringMatching(/^mongod download gave up after \d+ ms .*no answer within/)]);
    expect(held.length).toBeGreaterThanOrEqual(1);
    const entry = JSON.parse(fs.readFileSync(cacheFile(), 'utf8')) as OfflineEntry;
    expect(entry.url.startsWith(`http://127.0.0.1:${port}/`)).toBe(true);

    const second = await timedChoice(env);
    expect(second.choice.kind).toBe('ferretdb');
    expect(second.choice.skipped?.[2]).toMatch(/^mongod download skipped: cached offline result from /);
    expect(second.ms).toBeLessThan(1_000);
    expect(held.length).toBe(1); // no connection this time
    for (const s of held) s.destroy();

    // A stale entry is tried again (and renewed).
    const old = new Date(Date.now() - OFFLINE_TTL_MS - 60_000).toISOString();
    fs.writeFileSync(cacheFile(), JSON.stringify({ ...entry, at: old }));
    const third = await timedChoice(env);
    expect(third.choice.skipped?.[2]).toMatch(/^mongod download gave up after/);
    expect(third.ms).toBeLessThan(2_000);
    expect(held.length).toBe(2);
    expect((JSON.parse(fs.readFileSync(cacheFile(), 'utf8')) as OfflineEntry).at > old).toBe(true);
    for (const s of held) s.destroy();
  });

  it('downloads from a host that answers, forgets an old failure, and then uses the cached binary without the network', async () => {
    // A mongod archive as MongoDB publishes it (a .tgz with bin/mongod, and its .md5).
    const src = path.join(dir, 'archive');
    fs.mkdirSync(path.join(src, 'mongodb-linux-test', 'bin'), { recursive: true });
    fs.writeFileSync(path.join(src, 'mongodb-linux-test', 'bin', 'mongod'), '#!/bin/sh\necho not really mongod\n', { mode: 0o755 });
    const tgz = path.join(dir, 'mongod.tgz');
    expect(spawnSync('tar', ['-czf', tgz, '-C', src, 'mongodb-linux-test']).status).toBe(0);
    const archive = fs.readFileSync(tgz);
    const md5 = Buffer.from(`${createHash('md5').update(archive).digest('hex')}  mongod.tgz\n`);
    const requests: string[] = [];
    const port = await listen(
      http.createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
        const body = req.url?.endsWith('.md5') ? md5 : req.url?.endsWith('.tgz') ? archive : undefined;
        if (!body) return res.writeHead(404).end();
        res.writeHead(200, { 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
      }),
    );
    fs.mkdirSync(path.dirname(cacheFile()), { recursive: true });
    fs.writeFileSync(cacheFile(), JSON.stringify({ at: new Date().toISOString(), url: 'https://elsewhere.invalid/x.tgz', reason: 'an older mirror' }));
    const env = bareEnv({ MONGOMS_DOWNLOAD_MIRROR: `http://127.0.0.1:${port}`, MONGOMS_USE_HTTP: 'true' });

    const first = await timedChoice(env);
    expect(first.choice).toMatchObject({ kind: 'mongod', source: 'download' });
    const binary = first.choice.binary!;
    expect(binary.startsWith(path.join(dir, 'mongodb-binaries'))).toBe(true);
    expect(fs.readFileSync(binary, 'utf8')).toContain('not really mongod');
    expect(requests.some((r) => r.startsWith('HEAD ') && r.endsWith('.tgz'))).toBe(true);
    expect(requests.some((r) => r.startsWith('GET ') && r.endsWith('.tgz'))).toBe(true);
    expect(fs.existsSync(cacheFile())).toBe(false);

    const seen = requests.length;
    const second = await timedChoice(env);
    expect(second.choice).toMatchObject({ kind: 'mongod', source: 'download', binary });
    expect(requests.length).toBe(seen);
  });
});

describe('no server available', () => {
  /** startMongo in a child whose data folder has no FerretDB build (ours stays untouched); returns its error message. */
  async function startFails(extra: NodeJS.ProcessEnv): Promise<{ ms: number; message: string }> {
    const closed = await listen(net.createServer());
    await new Promise((r) => servers.pop()!.close(r)); // a port nothing listens on
    const env = bareEnv({ MONGOMS_DOWNLOAD_MIRROR: `http://127.0.0.1:${closed}`, GOROOT: path.join(dir, 'no-go'), ...extra });
    return inChild(
      `const t = performance.now();
       try { const s = await mongo.startMongo({ dataDir: ${JSON.stringify(path.join(dir, 'data', 'mongo'))} }); await s.stop(); return { ms: 0, message: 'started ' + s.kind }; }
       catch (err) { return { ms: performance.now() - t, message: err.message }; }`,
      env,
    );
  }

  it('without Go, mongod, MONGODB_URI or a download, one message says what to install or set', async () => {
    const { ms, message } = await startFails({});
    expect(message).toMatch(/^No MongoDB-compatible server available: MONGODB_URI not set; no mongod on PATH; mongod download gave up after \d+ ms \(http:\/\/127\.0\.0\.1:\d+ unreachable: .*ECONNREFUSED/);
    expect(message).toContain('FerretDB: Go is not installed (no `go` on PATH or in $GOROOT/bin)');
    expect(message).toContain('  - install Go ≥ 1.24 from https://go.dev/dl/');
    expect(message).toContain('  - set MONGODB_URI to a MongoDB server you can reach');
    expect(message).toContain('  - put mongod on PATH');
    expect(message).toMatch(/ {2}- allow downloads from http:\/\/127\.0\.0\.1:\d+ /);
    expect(ms).toBeLessThan(5_000);
  });

  it('a Go older than FerretDB needs counts as no Go, and the message says which version', async () => {
    fs.writeFileSync(path.join(dir, 'bin', 'go'), '#!/bin/sh\necho "go version go1.21.13 linux/amd64"\n', { mode: 0o755 });
    const { message } = await startFails({});
    expect(message).toContain(`FerretDB: ${path.join(dir, 'bin', 'go')} is Go 1.21.13; FerretDB v1.24.2 needs Go ≥ 1.24`);
    expect(message).toContain('  - install Go ≥ 1.24 from https://go.dev/dl/');
  });

  it('compares Go versions by major and minor', () => {
    expect(goVersionAtLeast('1.26.8')).toBe(true);
    expect(goVersionAtLeast('1.24')).toBe(true);
    expect(goVersionAtLeast('1.24rc1')).toBe(true);
    expect(goVersionAtLeast('1.23.12')).toBe(false);
    expect(goVersionAtLeast('1.9')).toBe(false);
    expect(goVersionAtLeast('2.0')).toBe(true);
  });
});
