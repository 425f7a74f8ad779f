/**
 * Vitest global setup: real servers for the whole test run. Uses
 * MONGODB_URI / REDIS_URL when set; otherwise starts a MongoDB-compatible
 * server and redis-server (see mongo.ts, redis.ts) with their data in a fresh
 * `.data/test-<pid>-*` folder, removed afterwards. The URLs and fresh JWT
 * secrets (when unset) go into `process.env`, which the test workers inherit;
 * each test file isolates itself with its own database names and queue prefix.
 *
 * Vitest may call this more than once per run (the root config and each
 * project that extends it); later calls find the URLs set and start nothing.
 */
import fs from 'node:fs';
import { startMongo, type MongoServer } from './mongo.js';
import { dataPath } from './paths.js';
import { startRedis, type RedisServer } from './redis.js';
import { GENERATED_SECRETS, randomSecret } from './secrets.js';

export default async function setup(): Promise<() => Promise<void>> {
  const log = (line: string) => console.log(`[test-setup] ${line}`);
  const needsServer = !process.env.MONGODB_URI || !process.env.REDIS_URL;
  let dir: string | undefined;
  if (needsServer) {
    fs.mkdirSync(dataPath(), { recursive: true });
    dir = fs.mkdtempSync(dataPath(`test-${process.pid}-`));
  }
  let mongo: MongoServer | undefined;
  let redis: RedisServer | undefined;
  const teardown = async () => {
    await Promise.all([mongo?.stop(), redis?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    mongo = await startMongo({ dataDir: `${dir}/mongo`, log });
    redis = await startRedis({ dataDir: `${dir}/redis`, log });
  } catch (err) {
    await teardown();
    throw err;
  }
  const started = mongo.kind !== 'external' || redis.kind !== 'external';
  process.env.MONGODB_URI = mongo.uri;
  process.env.REDIS_URL = redis.url;
  for (const key of GENERATED_SECRETS) process.env[key] ||= randomSecret();
  if (started) log(`MongoDB: ${mongo.kind} at ${mongo.uri} (${mongo.reason}); Redis: ${redis.kind} at ${redis.url}`);
  return teardown;
}
