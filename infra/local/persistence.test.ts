/**
 * Servers started by the local infra keep their data in `dataDir` across a
 * stop and a start (what `npm start` relies on for `.data/mongo` and
 * `.data/redis`), and `stop()` really ends the process.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { Redis } from 'ioredis';
import { startMongo } from './mongo.js';
import { dataPath } from './paths.js';
import { isAlive } from './proc.js';
import { startRedis } from './redis.js';

const dir = dataPath(`persistence-test-${process.pid}`);
const saved = { MONGODB_URI: process.env.MONGODB_URI, REDIS_URL: process.env.REDIS_URL };

beforeAll(() => {
  // This file starts its own servers: hide the shared ones (this worker only).
  delete process.env.MONGODB_URI;
  delete process.env.REDIS_URL;
});
afterAll(() => {
  Object.assign(process.env, saved);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('local servers', () => {
  it('MongoDB-compatible server keeps documents across restarts', async () => {
    for (const round of [1, 2]) {
      const server = await startMongo({ dataDir: `${dir}/mongo` });
      expect(server.kind).not.toBe('external');
      const client = new mongoose.mongo.MongoClient(server.uri);
      try {
        const coll = client.db('persist').collection<{ _id: string; round: number }>('probe');
        if (round === 1) await coll.insertOne({ _id: 'kept', round });
        expect(await coll.findOne({ _id: 'kept' })).toEqual({ _id: 'kept', round: 1 });
      } finally {
        await client.close();
        await server.stop();
      }
      expect(isAlive(server.pid as number)).toBe(false);
    }
  });

  it('redis-server keeps keys across restarts (append-only file)', async () => {
    for (const round of [1, 2]) {
      const server = await startRedis({ dataDir: `${dir}/redis` });
      expect(server.kind).toBe('redis-server');
      const redis = new Redis(server.url);
      try {
        if (round === 1) await redis.set('kept', 'yes');
        expect(await redis.get('kept')).toBe('yes');
      } finally {
        redis.disconnect();
        await server.stop();
      }
      expect(isAlive(server.pid as number)).toBe(false);
    }
  });
});
