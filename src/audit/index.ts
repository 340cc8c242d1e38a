import { createHash } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { AuditFilter, AuditQueries, AuditRecord, AuditRow } from '../store/queries/audit.ts';
import { currentActor } from './actor.ts';
import { createBatchWriter } from '../store/batch-writer.ts';

export { actingAs, currentActor, nameActor } from './actor.ts';
export type { AuditRecord } from '../store/queries/audit.ts';

export interface AuditItem {
  id: number;
  at: string;
  type: string;
  actor: string | null;
  subject: string | null;
  identifierHash: string | null;
  ip: string | null;
  clientId: string | null;
  outcome: string | null;
  detail: Record<string, unknown>;
}

/** How an identifier typed at sign-in is kept: SHA-256 hex of its normalised form, so repeats can be matched, never read. */
export function hashIdentifier(identifier: string): string {
  return createHash('sha256').update(identifier.trim().toLowerCase()).digest('hex');
}

/**
 * The audit log. `record()` costs a request nothing in the store: each event goes to the log (one
 * pino line, `audit: true`, to ship elsewhere) and into a buffer written in batches; `admin()` is
 * the same with the acting admin filled in. The table is pruned to `retentionDays`.
 */
export function createAuditLog(queries: AuditQueries, log: Logger, options: { retentionDays: number } = { retentionDays: 90 }) {
  const writer = createBatchWriter<AuditRecord>({ write: (batch) => queries.insertMany(batch), log, what: 'audit events' });
  const record = (event: AuditRecord): void => {
    const at = event.at ?? new Date();
    log.info({ audit: true, ...event, at }, `audit ${event.type}`);
    writer.add({ ...event, at });
  };
  return {
    record,
    /** An admin change, by whoever is acting (currentActor()). */
    admin(type: string, event: Omit<AuditRecord, 'type' | 'actor'> = {}): void {
      record({ ...event, type, actor: currentActor() });
    },
    flush: writer.flush,
    async list(filter: AuditFilter): Promise<{ items: AuditItem[]; next: number | null }> {
      // Events are written in batches; what just happened should be visible now.
      await writer.flush();
      const rows = await queries.list(filter);
      return { items: rows.map(toItem), next: rows.length === filter.limit && rows.length > 0 ? rows[rows.length - 1]!.id : null };
    },
    /** Every event matching `filter` (its limit ignored), newest first, a page at a time. */
    async *all(filter: Omit<AuditFilter, 'limit' | 'before'>): AsyncGenerator<AuditItem> {
      await writer.flush();
      let before: number | undefined;
      for (;;) {
        const rows = await queries.list({ ...filter, before, limit: 500 });
        for (const row of rows) yield toItem(row);
        if (rows.length < 500) return;
        before = rows[rows.length - 1]!.id;
      }
    },
    prune: () => queries.prune(options.retentionDays),
    close: writer.close,
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;

function toItem(row: AuditRow): AuditItem {
  return {
    id: row.id,
    at: row.at.toISOString(),
    type: row.type,
    actor: row.actor,
    subject: row.subject,
    identifierHash: row.identifier_hash,
    ip: row.ip,
    clientId: row.client_id,
    outcome: row.outcome,
    detail: row.detail,
  };
}
