import type { Queryable } from '../db.ts';

export interface ScriptVersionRow {
  name: string;
  version: number;
  source: string;
  note: string | null;
  created_at: Date;
}

/** SQL for versioned scripts stored in Ferry's database. */
export function createScriptQueries(db: Queryable) {
  return {
    async current(connectionId: string, name: string): Promise<ScriptVersionRow | undefined> {
      const { rows } = await db.query<ScriptVersionRow>(
        'select name, version, source, note, created_at from scripts where connection_id = $1 and name = $2 order by version desc limit 1',
        [connectionId, name],
      );
      return rows[0];
    },

    async version(connectionId: string, name: string, version: number): Promise<ScriptVersionRow | undefined> {
      const { rows } = await db.query<ScriptVersionRow>(
        'select name, version, source, note, created_at from scripts where connection_id = $1 and name = $2 and version = $3',
        [connectionId, name, version],
      );
      return rows[0];
    },

    async history(connectionId: string, name: string, limit = 100): Promise<Omit<ScriptVersionRow, 'source'>[]> {
      const { rows } = await db.query<Omit<ScriptVersionRow, 'source'>>(
        'select name, version, note, created_at from scripts where connection_id = $1 and name = $2 order by version desc limit $3',
        [connectionId, name, limit],
      );
      return rows;
    },

    /** Saves a new version (one more than the newest); concurrent saves cannot take the same number. */
    async save(connectionId: string, name: string, source: string, note: string | null): Promise<ScriptVersionRow> {
      const { rows } = await db.query<ScriptVersionRow>(
        `insert into scripts (connection_id, name, version, source, note)
         values ($1, $2, coalesce((select max(version) from scripts where connection_id = $1 and name = $2), 0) + 1, $3, $4)
         returning name, version, source, note, created_at`,
        [connectionId, name, source, note],
      );
      return rows[0]!;
    },
  };
}

export type ScriptQueries = ReturnType<typeof createScriptQueries>;
