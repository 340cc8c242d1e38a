import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database, Queryable, QueryResult } from './db.ts';

/** Embedded PostgreSQL (WASM) keeping its files in `dataDir`; for one Ferry process. */
export async function openPglite(dataDir: string): Promise<Database> {
  const dir = resolve(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  return {
    kind: 'pglite',
    query: (sql, params) => run(db, sql, params),
    exec: async (sql) => void (await db.exec(sql)),
    transaction: (fn) => db.transaction((tx) => fn({ query: (sql, params) => run(tx, sql, params), exec: async (sql) => void (await tx.exec(sql)) })),
    async ping() {
      await db.query('select 1');
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}

async function run<Row>(db: PGlite | Transaction, sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
  const result = await db.query<Row>(sql, params as unknown[] | undefined);
  return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
}

export type { Queryable };
