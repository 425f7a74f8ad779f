/**
 * What the database tier did, counted by the servers themselves:
 *
 * - FerretDB's commands (`/debug/metrics`, `ferretdb_client_requests_total`
 *   by command): writes are `insert`, `update`, `delete` and
 *   `findAndModify` commands, finds are `find`, `aggregate`, `count`,
 *   `distinct` and `getMore`. One command may carry several statements (a
 *   bulk write), so the tuples PostgreSQL wrote are counted too.
 * - PostgreSQL's table statistics (`pg_stat_user_tables`, every table of
 *   every database schema FerretDB made): tuples inserted, updated and
 *   deleted, and sequential versus index scans. A backend reports them at
 *   most once a second and when idle within ~10 s, so read them after the
 *   tier has been idle that long, or accept a lag.
 */
import pg from 'pg';

export const WRITE_COMMANDS = ['insert', 'update', 'delete', 'findAndModify'] as const;
export const FIND_COMMANDS = ['find', 'aggregate', 'count', 'distinct', 'getMore'] as const;

/** FerretDB's command counts by command name. */
export async function ferretdbCommands(debugUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${debugUrl}/debug/metrics`)).text();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^ferretdb_client_requests_total\{command="([^"]+)",opcode="OP_MSG"\} (\S+)$/.exec(line);
    if (m) counts.set(m[1]!, Number(m[2]));
  }
  return counts;
}

export interface CommandDelta {
  writes: number;
  finds: number;
  byCommand: Record<string, number>;
}

/** Commands between two readings. */
export function commandDelta(before: Map<string, number>, after: Map<string, number>): CommandDelta {
  const byCommand: Record<string, number> = {};
  for (const [cmd, n] of after) {
    const d = n - (before.get(cmd) ?? 0);
    if (d > 0) byCommand[cmd] = d;
  }
  const sum = (names: readonly string[]) => names.reduce((s, c) => s + (byCommand[c] ?? 0), 0);
  return { writes: sum(WRITE_COMMANDS), finds: sum(FIND_COMMANDS), byCommand };
}

export interface TableStats {
  inserted: number;
  updated: number;
  deleted: number;
  seqScans: number;
  idxScans: number;
}

/** Sums of PostgreSQL's statistics over the user tables of schemas whose name starts with `schemaPrefix`. */
export async function postgresTableStats(url: string, schemaPrefix = ''): Promise<TableStats> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, string>>(
      `SELECT coalesce(sum(n_tup_ins), 0) ins, coalesce(sum(n_tup_upd), 0) upd, coalesce(sum(n_tup_del), 0) del,
              coalesce(sum(seq_scan), 0) seq, coalesce(sum(idx_scan), 0) idx
         FROM pg_stat_user_tables WHERE schemaname LIKE $1 AND relname NOT LIKE '\\_ferretdb%'`,
      [`${schemaPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
    );
    const r = rows[0]!;
    return { inserted: Number(r.ins), updated: Number(r.upd), deleted: Number(r.del), seqScans: Number(r.seq), idxScans: Number(r.idx) };
  } finally {
    await client.end();
  }
}

export function statsDelta(a: TableStats, b: TableStats): TableStats {
  return {
    inserted: b.inserted - a.inserted,
    updated: b.updated - a.updated,
    deleted: b.deleted - a.deleted,
    seqScans: b.seqScans - a.seqScans,
    idxScans: b.idxScans - a.idxScans,
  };
}
