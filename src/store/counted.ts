import type { Database, Queryable } from './db.ts';

export interface StoreCounters {
  /** Every statement sent, inside transactions too. */
  queries: { inc(): void };
  /** Explicit transactions (each statement outside one is its own). */
  transactions: { inc(): void };
}

/** The same database, counting what is sent to it (the metrics and the benchmark read the counts). */
export function countedDatabase(db: Database, counters: StoreCounters): Database {
  const counted = (inner: Queryable): Queryable => ({
    query: (sql, params) => {
      counters.queries.inc();
      return inner.query(sql, params);
    },
    exec: (sql) => inner.exec(sql),
  });
  const outer = counted(db);
  return {
    kind: db.kind,
    query: outer.query,
    exec: outer.exec,
    transaction: (fn) => {
      counters.transactions.inc();
      return db.transaction((tx) => fn(counted(tx)));
    },
    ping: () => db.ping(),
    ...(db.poolStats ? { poolStats: () => db.poolStats!() } : {}),
    close: () => db.close(),
  };
}
