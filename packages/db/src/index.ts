/**
 * MongoDB connection for one subgraph: one database per subgraph, as DESIGN.md
 * requires. Code that uses it keeps to what FerretDB 1.x supports: no
 * multi-document transactions and no change streams; every consistency rule
 * is one conditional single-document update.
 */
import mongoose, { type Connection } from 'mongoose';

export { mongoose };

/** Opens a dedicated connection to `dbName` on the server at `uri`. */
export async function connectDatabase(uri: string, dbName: string): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    dbName,
    serverSelectionTimeoutMS: 5_000,
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
