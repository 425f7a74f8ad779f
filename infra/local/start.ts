/**
 * `npm start`: the whole system on this machine. Takes the start lock,
 * brings up MongoDB-compatible and Redis servers (data in `.data/mongo` and
 * `.data/redis`, kept between runs), runs every service whose entry exists
 * under a restarting supervisor, waits for each `/readyz`, loads the demo
 * data (seed.ts, idempotent) through the router, and prints where to go.
 * The web client gets LOCAL_SIGN_IN=true (unless set otherwise): one-click
 * sign-in, which web/serve.ts refuses with NODE_ENV=production.
 * Ctrl-C (SIGINT) or SIGTERM stops everything in order.
 */
import { LockHeldError, acquireLock, type Lock, type LockInfo } from './lock.js';
import { startMongo, type MongoServer } from './mongo.js';
import { isPortFree } from './ports.js';
import { dataPath } from './paths.js';
import { commandLine, isAlive, sleep } from './proc.js';
import { startRedis, type RedisServer } from './redis.js';
import { localEnv } from './secrets.js';
import { resolveServices, resolveWorkers, serviceUrlsEnv, supergraphPath, supergraphSubgraphs, type ResolvedService } from './services.js';
import { Supervisor, waitForHttpOk } from './supervisor.js';
import { ensureWebBuild } from '../../web/build.js';
import { localSignInFromEnv } from '../../web/local-token.js';
import { seed } from './seed.js';

const READY_TIMEOUT_MS = 90_000;
const say = (line: string) => console.log(`[start] ${line}`);

let lock: Lock | undefined;
let mongo: MongoServer | undefined;
let redis: RedisServer | undefined;
const supervisors: Supervisor[] = [];
let stopping: Promise<void> | undefined;
/** The servers being started; a stop waits for it so nothing is left running. */
let startingServers: Promise<unknown> | undefined;

/** Stops services, then Redis and MongoDB (if we started them), then frees the lock. */
function shutdown(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    say('stopping…');
    await Promise.race([startingServers?.catch(() => {}), sleep(40_000)]);
    await Promise.all([...supervisors].reverse().map((s) => s.stop(15_000)));
    await Promise.all([redis?.stop(), mongo?.stop()]);
    lock?.release();
    say('stopped');
    process.exit(exitCode);
  })();
  return stopping;
}

/**
 * Loads the demo stores and items through the router (seed.ts; what exists is
 * kept), so one-click sign-in has something to reserve and S1 has orders to
 * show. A failure is printed, never fatal: `npm run seed` tries again.
 */
async function seedDemoData(url: string, secret: string): Promise<void> {
  try {
    const r = await seed({ url, secret });
    const made = r.stores.created.length + r.items.created.length;
    say(
      made > 0
        ? `demo data loaded: ${r.stores.created.length} store(s) and ${r.items.created.length} item(s) created (S1 "Downtown", S2 "Airport")`
        : `demo data already there (S1 "Downtown", S2 "Airport", ${r.items.skipped.length} items)`,
    );
  } catch (err) {
    say(`demo data not loaded: ${(err as Error).message}; \`npm run seed\` tries again`);
  }
}

/** Stops servers a previous `npm start`, killed without cleaning up, left running. */
async function stopLeftovers(stale: LockInfo): Promise<void> {
  for (const child of stale.children ?? []) {
    if (!isAlive(child.pid) || !commandLine(child.pid).includes(child.match)) continue;
    say(`stopping ${child.name} (pid ${child.pid}) left running by a previous start (pid ${stale.pid})`);
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      continue;
    }
    for (let i = 0; i < 50 && isAlive(child.pid); i++) await sleep(200);
    if (isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
  }
}

async function main(): Promise<void> {
  const env = localEnv();
  env.NODE_ENV ??= 'development';
  const services = resolveServices(env);
  const router = services.find((s) => s.name === 'router') as ResolvedService;
  const sandboxUrl = `http://localhost:${router.port}/graphql`;
  const web = services.find((s) => s.name === 'web') as ResolvedService;
  const webUrl = `http://localhost:${web.port}/`;
  // The web server mints one-click sign-in tokens with the router's JWT_SECRET; LOCAL_SIGN_IN=false in .env turns it off.
  const webLocalSignIn = env.LOCAL_SIGN_IN ?? 'true';
  const localSignIn = await localSignInFromEnv({ ...env, LOCAL_SIGN_IN: webLocalSignIn });

  try {
    lock = acquireLock(dataPath('start.lock'), { routerUrl: sandboxUrl });
  } catch (err) {
    if (err instanceof LockHeldError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  if (lock.staleHolder) await stopLeftovers(lock.staleHolder);

  const present = services.filter((s) => s.present);
  for (const s of services.filter((x) => !x.present)) say(`${s.name}: ${s.entry} does not exist yet, not started`);
  const workers = resolveWorkers();
  for (const w of workers.filter((x) => !x.present)) say(`${w.name}: ${w.entry} does not exist yet, not started`);
  const busy = [];
  for (const s of present) if (!(await isPortFree(s.port))) busy.push(s);
  if (busy.length > 0) {
    for (const s of busy) console.error(`[start] port ${s.port} for ${s.name} is in use; free it or set ${s.portEnv}`);
    return shutdown(1);
  }

  // The web client's build (web/dist), made while the servers start when missing or stale.
  const webBuilt = web.present
    ? ensureWebBuild({ log: say }).then(
        () => true,
        (err: Error) => {
          say(`web client not served: ${err.message}`);
          return false;
        },
      )
    : Promise.resolve(false);

  // Only the URIs from .env / the environment count as external servers.
  for (const key of ['MONGODB_URI', 'REDIS_URL'] as const) if (env[key]) process.env[key] = env[key];
  startingServers = (async () => {
    mongo = await startMongo({ dataDir: dataPath('mongo'), log: say });
    say(`MongoDB: ${mongo.kind} at ${mongo.uri} (${mongo.reason})`);
    redis = await startRedis({ dataDir: dataPath('redis'), log: say });
    say(`Redis: ${redis.kind} at ${redis.url}`);
  })();
  await startingServers;
  if (stopping || !mongo || !redis) return;

  const children: NonNullable<LockInfo['children']> = [];
  children.push(...mongo.processes);
  if (redis.pid) children.push({ name: 'redis-server', pid: redis.pid, match: `127.0.0.1:${redis.url.split(':').pop()}` });
  lock.update({ children });

  const composed = supergraphSubgraphs(supergraphPath(env));
  for (const s of present.filter((x) => x.subgraph && composed && !composed.has(x.name))) {
    say(`${s.name} runs but is not in the supergraph yet (run \`npm run compose\`), so the router does not route to it`);
  }
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    MONGODB_URI: mongo.uri,
    REDIS_URL: redis.url,
    ...serviceUrlsEnv(services, composed),
    ...Object.fromEntries(services.map((s) => [s.portEnv, String(s.port)])),
    // web/serve.ts proxies /graphql (HTTP + WebSocket) here.
    ROUTER_URL: `http://127.0.0.1:${router.port}`,
  };
  const width = Math.max(...[...services, ...workers].map((s) => s.name.length));
  const pids = new Map<string, { pid: number; match: string }>();
  const launch = async (group: ResolvedService[]) => {
    const started = group.map((s) => {
      const sup = new Supervisor({
        name: s.name,
        entry: s.entry,
        env: s.name === 'web' ? { ...childEnv, LOCAL_SIGN_IN: webLocalSignIn } : childEnv,
        prefixWidth: width,
        readyUrl: `http://127.0.0.1:${s.port}/readyz`,
        onSpawn: (pid) => {
          pids.set(s.name, { pid, match: s.entry });
          lock?.update({ children: [...children, ...[...pids].map(([name, p]) => ({ name, ...p }))] });
        },
      });
      supervisors.push(sup);
      sup.start();
      return { s, sup };
    });
    await Promise.all(
      started.map(async ({ s, sup }) => {
        const readyz = `http://127.0.0.1:${s.port}/readyz`;
        if (await waitForHttpOk(readyz, READY_TIMEOUT_MS)) sup.say(`ready at ${s.url}`);
        else sup.say(`not ready after ${READY_TIMEOUT_MS / 1000} s (${readyz}); see its output above. Still supervising.`);
      }),
    );
  };
  await launch(present.filter((s) => s.subgraph));
  if (stopping) return;
  // Workers have no port to wait for; their queues hold the events until they consume.
  for (const w of workers.filter((x) => x.present && present.some((s) => s.name === x.subgraph))) {
    const sup = new Supervisor({
      name: w.name,
      entry: w.entry,
      env: childEnv,
      prefixWidth: width,
      onSpawn: (pid) => {
        pids.set(w.name, { pid, match: w.entry });
        lock?.update({ children: [...children, ...[...pids].map(([name, p]) => ({ name, ...p }))] });
      },
    });
    supervisors.push(sup);
    sup.start();
  }
  if (stopping) return;
  await launch(present.filter((s) => !s.subgraph && s.name !== 'web'));
  if (stopping) return;
  const seeding = router.present ? seedDemoData(`http://127.0.0.1:${router.port}/graphql`, env.JWT_SECRET as string) : Promise.resolve();
  const webServed = (await webBuilt) && !stopping;
  if (webServed) await launch([web]);
  await seeding;
  if (stopping) return;

  console.log('');
  if (router.present) say(`Apollo Sandbox: ${sandboxUrl}`);
  else say(`router not started (${router.entry} does not exist yet), so there is no Sandbox URL`);
  if (webServed) {
    say(`Web client: ${webUrl}`);
    if (localSignIn.on) say('  sign in there with one click: demo customer, staff of S1 or admin (LOCAL-ONLY), or paste a token');
    else say('  sign in there with a token: npm run token -- --role customer --sub carol (or --role staff --store <id>)');
  }
  else if (web.present) say('web client not served (see above); `npm run build -w web` shows why');
  for (const s of present.filter((x) => x.subgraph)) say(`subgraph ${s.name}: ${s.url}`);
  const running = workers.filter((w) => pids.has(w.name));
  if (running.length > 0) say(`workers: ${running.map((w) => w.name).join(', ')}`);
  if (present.length === 0) say('no service entry exists yet; only the servers are running');
  say(`database: ${mongo.kind} (${mongo.reason}) at ${mongo.uri}`);
  say(`redis: ${redis.kind} at ${redis.url}`);
  say('a token for Sandbox: npm run token -- --role admin --sub admin');
  say('stop with Ctrl-C (or kill -TERM ' + process.pid + ')');
}

main().catch((err: Error) => {
  console.error(`[start] ${err.message}`);
  void shutdown(1);
});
