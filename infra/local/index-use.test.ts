import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import mongoose, { type Connection } from 'mongoose';
import pg from 'pg';
import { startLocalFerretDb, type MongoServer } from './mongo.js';
import { dataPath } from './paths.js';

/**
 * Our FerretDB build serves filters on `_id` and on indexed fields from the
 * index (infra/local/ferretdb/rental.patch, pushdown_index.go): the plans
 * PostgreSQL makes for FerretDB's SQL use the index, and its statistics
 * count no sequential scan of the table for finds, updates and deletes by
 * `_id` or by an indexed field. Stock FerretDB 1.24 scans for every one of
 * them (it sends the field name as a bind parameter). A FerretDB of its own
 * on a PostgreSQL cluster of its own, so the figures are this file's alone.
 */
let dir: string;
let server: MongoServer;
let conn: Connection;
let admin: pg.Client;
const DOCS = 5_000;

interface Row {
  _id: string;
  customerId: string;
  status: string;
  createdAt: Date;
  tags: string | string[];
  n: number;
}

beforeAll(async () => {
  fs.mkdirSync(dataPath(), { recursive: true });
  dir = fs.mkdtempSync(dataPath('index-use-'));
  server = await startLocalFerretDb({ dataDir: dir });
  expect(server.backend).toBe('postgresql');
  conn = await mongoose.createConnection(server.uri, { dbName: 'indexuse' }).asPromise();
  const coll = conn.db!.collection<Row>('rows');
  await coll.createIndex({ customerId: 1, createdAt: -1 });
  await coll.createIndex({ status: 1, createdAt: 1 });
  await coll.createIndex({ tags: 1 });
  const at = Date.now();
  const rows: Row[] = Array.from({ length: DOCS }, (_, i) => ({
    _id: `r${i}`,
    customerId: `c${i % 500}`,
    status: i % 250 === 0 ? 'PENDING' : 'DONE',
    createdAt: new Date(at - i * 60_000),
    // One array value: an equality on an indexed field still finds it (MongoDB matches array elements).
    tags: i === 7 ? ['gift', 'fragile'] : 'plain',
    n: i,
  }));
  for (let i = 0; i < rows.length; i += 1_000) await coll.insertMany(rows.slice(i, i + 1_000));
  admin = new pg.Client({ connectionString: server.postgres!.url });
  await admin.connect();
  await admin.query('ANALYZE');
  await flushStatistics(); // the index builds' scans count as sequential scans: before the measured part
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await conn?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The PostgreSQL plan FerretDB makes for a find with this filter (its `explain` runs the same SQL). */
async function plan(filter: Record<string, unknown>): Promise<string> {
  const res = await conn.db!.command({ explain: { find: 'rows', filter }, verbosity: 'queryPlanner' });
  expect(res.filterPushdown).toBe(true);
  return JSON.stringify(res.queryPlanner);
}

/**
 * A PostgreSQL backend reports its table statistics at most once a second,
 * and when it goes idle only after about 10 s, but always when it exits.
 * Restarting FerretDB closes its connections, so everything it did is
 * counted by the time it answers again.
 */
async function flushStatistics(): Promise<void> {
  await server.ferretdb!.restart();
  await new Promise((r) => setTimeout(r, 300));
}

async function scans(): Promise<{ seq: number; idx: number }> {
  const { rows } = await admin.query<{ seq_scan: string; idx_scan: string }>(
    `SELECT seq_scan, idx_scan FROM pg_stat_user_tables WHERE schemaname = 'indexuse' AND relname LIKE 'rows%'`,
  );
  return { seq: Number(rows[0]!.seq_scan), idx: Number(rows[0]!.idx_scan) };
}

it('plans: _id, an indexed field, $in and a status-and-time range are index scans; the field name is a literal', async () => {
  for (const filter of [
    { _id: 'r42' },
    { _id: { $in: ['r1', 'r2', 'r3'] } },
    { customerId: 'c7' },
    { status: 'PENDING', createdAt: { $lt: new Date() } },
    { status: { $in: ['PENDING', 'FAILED'] } },
  ]) {
    const text = await plan(filter);
    expect(text, JSON.stringify(filter)).toMatch(/Index Scan/);
    expect(text, JSON.stringify(filter)).not.toMatch(/Seq Scan/);
    expect(text, JSON.stringify(filter)).toMatch(new RegExp(`_jsonb -> '${Object.keys(filter)[0]}'`));
  }
  // A field without an index is still scanned (and still answered correctly).
  expect(await plan({ n: 42 })).toMatch(/Seq Scan/);
});

it('finds, updates and deletes by _id or an indexed field add no sequential scan, and answer as MongoDB does', async () => {
  const coll = conn.db!.collection<Row>('rows');
  const before = await scans();
  let ops = 0;
  for (let i = 0; i < 50; i += 1) {
    expect((await coll.findOne({ _id: `r${i * 11}` }))?.n).toBe(i * 11);
    expect(await coll.countDocuments({ customerId: `c${i}` })).toBe(DOCS / 500);
    expect((await coll.updateOne({ _id: `r${i}` }, { $inc: { n: 1_000_000 } })).modifiedCount).toBe(1);
    ops += 3;
  }
  expect((await coll.find({ status: 'PENDING', createdAt: { $lt: new Date() } }).toArray()).length).toBe(DOCS / 250);
  expect((await coll.find({ tags: 'gift' }).toArray()).map((r) => r._id)).toEqual(['r7']);
  expect((await coll.deleteOne({ _id: 'r4999' })).deletedCount).toBe(1);
  expect((await coll.deleteMany({ customerId: 'c498' })).deletedCount).toBe(DOCS / 500);
  ops += 4;
  await flushStatistics();
  const after = await scans();
  expect(after.idx - before.idx).toBeGreaterThanOrEqual(ops);
  expect(after.seq - before.seq).toBe(0);
}, 60_000);
