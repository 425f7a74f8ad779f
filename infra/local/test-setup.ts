/**
 * Vitest global setup: real servers for the whole test run. Uses
 * MONGODB_URI / REDIS_URL when set; otherwise starts a MongoDB-compatible
 * server and redis-server (see mongo.ts, redis.ts) with their data in
 * `.data/test-<pid>`, removed afterwards. The URLs and fresh JWT secrets (when
 * unset) go into `process.env`, which the test workers inherit; each test
 * file isolates itself with its own database names and queue prefix.
 */
import fs from 'node:fs';
import { startMongo, type MongoServer } from './mongo.js';
import { dataPath } from './paths.js';
import { startRedis, type RedisServer } from './redis.js';
import { GENERATED_SECRETS, randomSecret } from './secrets.js';

export default async function setup(): Promise<() => Promise<void>> {
  const dir = dataPath(`test-${process.pid}`);
  const log = (line: string) => console.log(`[test-setup] ${line}`);
  let mongo: MongoServer | undefined;
  let redis: RedisServer | undefined;
  const teardown = async () => {
    await Promise.all([mongo?.stop(), redis?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    mongo = await startMongo({ dataDir: `${dir}/mongo`, log });
    redis = await startRedis({ dataDir: `${dir}/redis`, log });
  } catch (err) {
    await teardown();
    throw err;
  }
  process.env.MONGODB_URI = mongo.uri;
  process.env.REDIS_URL = redis.url;
  for (const key of GENERATED_SECRETS) process.env[key] ||= randomSecret();
  log(`MongoDB: ${mongo.kind} at ${mongo.uri} (${mongo.reason}); Redis: ${redis.kind} at ${redis.url}`);
  return teardown;
}
