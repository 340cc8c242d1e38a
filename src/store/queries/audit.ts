import type { Queryable } from '../db.ts';

/** One event as written: everything but `id` and `at`, which the database gives. */
export interface AuditRecord {
  type: string;
  /** Who did it: the admin door (`adminToken`, `console`, `cli`) or `user` for what a user did. */
  actor?: string | undefined;
  subject?: string | undefined;
  /** SHA-256 of the normalised identifier typed at sign-in, hex. */
  identifierHash?: string | undefined;
  ip?: string | undefined;
  clientId?: string | undefined;
  outcome?: string | undefined;
  detail?: Record<string, unknown> | undefined;
  /** When it happened (the batch is written later); the database's clock when absent. */
  at?: Date | undefined;
}

export interface AuditRow {
  id: number;
  at: Date;
  type: string;
  actor: string | null;
  subject: string | null;
  identifier_hash: string | null;
  ip: string | null;
  client_id: string | null;
  outcome: string | null;
  detail: Record<string, unknown>;
}

export interface AuditFilter {
  /** An exact type, or a prefix ending in a dot (`admin.`). */
  type?: string | undefined;
  subject?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Rows with an id below this one (paging backwards through time). */
  before?: number | undefined;
  limit: number;
}

const COLUMNS = 'id::int as id, at, type, actor, subject, identifier_hash, ip, client_id, outcome, detail';

/** SQL for the audit log (migration 017). */
export function createAuditQueries(db: Queryable) {
  return {
    async insertMany(records: readonly AuditRecord[]): Promise<void> {
      if (records.length === 0) return;
      const params: unknown[] = [];
      const rows = records.map((record) => {
        params.push(
          record.at ?? new Date(),
          record.type,
          record.actor ?? null,
          record.subject ?? null,
          record.identifierHash ?? null,
          record.ip ?? null,
          record.clientId ?? null,
          record.outcome ?? null,
          JSON.stringify(record.detail ?? {}),
        );
        const n = params.length;
        return `($${n - 8}, $${n - 7}, $${n - 6}, $${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n}::jsonb)`;
      });
      await db.query(`insert into audit_events (at, type, actor, subject, identifier_hash, ip, client_id, outcome, detail) values ${rows.join(', ')}`, params);
    },

    async list(filter: AuditFilter): Promise<AuditRow[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (filter.type?.endsWith('.')) add('starts_with(type, ?)', filter.type);
      else if (filter.type) add('type = ?', filter.type);
      if (filter.subject) add('subject = ?', filter.subject);
      if (filter.since) add('at >= ?', filter.since);
      if (filter.until) add('at < ?', filter.until);
      if (filter.before) add('id < ?', filter.before);
      params.push(filter.limit);
      const { rows } = await db.query<AuditRow>(
        `select ${COLUMNS} from audit_events ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit $${params.length}`,
        params,
      );
      return rows;
    },

    /** Deletes events older than `days` days; returns how many. */
    async prune(days: number): Promise<number> {
      const { rowCount } = await db.query('delete from audit_events where at < now() - make_interval(days => $1::int)', [days]);
      return rowCount;
    },
  };
}

export type AuditQueries = ReturnType<typeof createAuditQueries>;
