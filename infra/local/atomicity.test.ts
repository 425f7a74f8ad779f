import { afterAll, beforeAll, expect, it } from 'vitest';
import mongoose, { type Connection } from 'mongoose';

/**
 * The database server must give single-document atomicity, as MongoDB does:
 * stock, state transitions and the outbox all rely on one conditional update
 * never being overwritten by a concurrent one. (Unpatched FerretDB 1.24 fails
 * this: see infra/local/ferretdb-build.ts.)
 */
let conns: Connection[] = [];
const dbName = `atomicity_${process.pid}_${Date.now()}`;

beforeAll(async () => {
  conns = await Promise.all([0, 1, 2, 3].map(() => mongoose.createConnection(process.env.MONGODB_URI!, { dbName }).asPromise()));
});
afterAll(async () => {
  await conns[0]?.dropDatabase();
  await Promise.all(conns.map((c) => c.close()));
});

it('200 concurrent conditional decrements over 4 connections take exactly the 20 units there are', async () => {
  const schema = new mongoose.Schema({ stock: Number, holds: mongoose.Schema.Types.Mixed }, { minimize: false });
  const models = conns.map((c) => c.model('Counter', schema));
  const doc = await models[0]!.create({ stock: 20, holds: {} });
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      models[i % 4]!.updateOne(
        { _id: doc._id, stock: { $gte: 1 }, [`holds.r${i}`]: { $exists: false } },
        { $inc: { stock: -1 }, $set: { [`holds.r${i}`]: 1 } },
      ),
    ),
  );
  const after = await models[0]!.findById(doc._id).lean<{ stock: number; holds: Record<string, number> }>();
  expect(results.filter((r) => r.modifiedCount === 1)).toHaveLength(20);
  expect(after?.stock).toBe(0);
  expect(Object.keys(after?.holds ?? {})).toHaveLength(20);
});
