/**
 * The servers the global setup provides are real and reachable from test
 * workers: the env vars set in globalSetup reach this worker process.
 */
import { describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { Redis } from 'ioredis';

describe('test infrastructure (from infra/local/test-setup.ts)', () => {
  it('passes MONGODB_URI, REDIS_URL and JWT secrets to workers', () => {
    expect(process.env.MONGODB_URI).toMatch(/^mongodb:\/\//);
    expect(process.env.REDIS_URL).toMatch(/^rediss?:\/\//);
    expect(process.env.JWT_SECRET?.length).toBeGreaterThanOrEqual(32);
    expect(process.env.INTERNAL_JWT_SECRET?.length).toBeGreaterThanOrEqual(32);
  });

  it('MONGODB_URI answers a ping and stores a document', async () => {
    const client = new mongoose.mongo.MongoClient(process.env.MONGODB_URI as string, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.connect();
      expect((await client.db('admin').command({ ping: 1 })).ok).toBe(1);
      const coll = client.db(`infra_test_${process.pid}`).collection('probe');
      await coll.insertOne({ _id: 'x' as never, n: 1 });
      expect(await coll.findOne({ _id: 'x' as never })).toMatchObject({ n: 1 });
      await client.db(`infra_test_${process.pid}`).dropDatabase();
    } finally {
      await client.close();
    }
  });

  it('REDIS_URL answers PING', async () => {
    const redis = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: 1 });
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });
});
