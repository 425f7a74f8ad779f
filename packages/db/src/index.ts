/**
 * MongoDB connection for one subgraph: one database per subgraph, as
 * docs/ARCHITECTURE.md ("Fixed choices") requires. Code that uses it keeps
 * to what FerretDB 1.x supports: no multi-document transactions and no
 * change streams; every consistency rule is one conditional single-document
 * update.
 */
import { createHash } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';

export { mongoose };

/**
 * Opens a dedicated connection to `dbName` on the server at `uri`.
 *
 * Every wait is bounded, so a request or a worker job fails (and is
 * answered or retried) instead of hanging when the server dies mid-call:
 * choosing a server 5 s, a connection from the pool 10 s
 * (`waitQueueTimeoutMS`; the driver's default waits for ever), an answer
 * on a socket 30 s (`socketTimeoutMS`; the default is no limit). Every
 * operation here is a single indexed document or a page, far below that.
 */
export async function connectDatabase(uri: string, dbName: string): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    dbName,
    serverSelectionTimeoutMS: 5_000,
    waitQueueTimeoutMS: 10_000,
    socketTimeoutMS: 30_000,
    maxPoolSize: 50,
    autoIndex: true,
  });
  await conn.asPromise();
  return conn;
}

/** True while the connection can answer a ping; readiness probes use it. */
export async function isDatabaseUp(conn: Connection): Promise<boolean> {
  if (conn.readyState !== 1 || !conn.db) return false;
  try {
    await conn.db.admin().ping();
    return true;
  } catch {
    return false;
  }
}

/** Builds the per-subgraph database name; `MONGODB_DB_PREFIX` lets tests isolate runs. */
export function databaseName(subgraph: string, prefix = process.env.MONGODB_DB_PREFIX ?? 'rental'): string {
  return `${prefix}_${subgraph}`;
}

/**
 * A name-based UUID (version 5 layout: SHA-1 of `namespace:key`). Documents
 * that exist once per some other entity (a store order or a rental per
 * reservation) take such an id, so a repeated create fails on `_id` instead
 * of creating a second document, and the entity's id alone finds it (a
 * lookup by `_id`, without a second index).
 */
export function nameBasedId(namespace: string, key: string): string {
  const hash = createHash('sha1').update(`${namespace}:${key}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
