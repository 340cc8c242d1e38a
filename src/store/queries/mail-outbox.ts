import type { Queryable } from '../db.ts';

export type MailStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'held';

export interface OutboxRow {
  id: number;
  template: string;
  recipient: string;
  subject: string;
  text_body: string | null;
  html_body: string | null;
  message_id: string;
  status: MailStatus;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export interface NewMail {
  template: string;
  recipient: string;
  subject: string;
  text: string;
  html: string | undefined;
  messageId: string;
  status: 'queued' | 'held';
}

/** SQL for the mail outbox. Times are the database's, so every instance agrees on what is due. */
export function createMailOutboxQueries(db: Queryable) {
  return {
    async insert(mail: NewMail): Promise<number> {
      const { rows } = await db.query<{ id: number }>(
        `insert into mail_outbox (template, recipient, subject, text_body, html_body, message_id, status)
         values ($1, $2, $3, $4, $5, $6, $7) returning id`,
        [mail.template, mail.recipient, mail.subject, mail.text, mail.html ?? null, mail.messageId, mail.status],
      );
      return rows[0]!.id;
    },

    /**
     * Takes up to `limit` due mails for this instance: queued ones whose time has come, and
     * 'sending' ones whose sender's lease ran out. Rows another instance is taking right now are
     * skipped, not waited for; each taken row is leased for `leaseSeconds` and counts an attempt.
     */
    async claim(limit: number, leaseSeconds: number): Promise<OutboxRow[]> {
      const { rows } = await db.query<OutboxRow>(
        `update mail_outbox set status = 'sending', attempts = attempts + 1,
           next_attempt_at = now() + make_interval(secs => $2::float8)
         where id in (
           select id from mail_outbox
           where status in ('queued', 'sending') and next_attempt_at <= now()
           order by next_attempt_at, id limit $1
           for update skip locked)
         returning *`,
        [limit, leaseSeconds],
      );
      return rows.sort((a, b) => a.id - b.id);
    },

    /** Delivered: the bodies (which may hold a reset link) are dropped at once. */
    async markSent(id: number): Promise<void> {
      await db.query(`update mail_outbox set status = 'sent', sent_at = now(), text_body = null, html_body = null, last_error = null where id = $1`, [id]);
    },

    /** Not delivered: queued again after `retryInSeconds`, or given up (failed) when undefined. */
    async markFailed(id: number, error: string, retryInSeconds: number | undefined): Promise<void> {
      await db.query(
        `update mail_outbox set last_error = $2,
           status = case when $3::float8 is null then 'failed' else 'queued' end,
           next_attempt_at = case when $3::float8 is null then next_attempt_at else now() + make_interval(secs => $3::float8) end
         where id = $1`,
        [id, error.slice(0, 1000), retryInSeconds ?? null],
      );
    },

    /** Newest first, paged by id. */
    async list(filter: { status?: MailStatus | undefined; before?: number | undefined; limit: number }): Promise<OutboxRow[]> {
      const { rows } = await db.query<OutboxRow>(
        `select * from mail_outbox
         where ($1::text is null or status = $1) and ($2::bigint is null or id < $2)
         order by id desc limit $3`,
        [filter.status ?? null, filter.before ?? null, filter.limit],
      );
      return rows;
    },

    async counts(): Promise<Record<MailStatus, number>> {
      const { rows } = await db.query<{ status: MailStatus; count: number }>('select status, count(*)::int as count from mail_outbox group by status');
      const counts: Record<MailStatus, number> = { queued: 0, sending: 0, sent: 0, failed: 0, held: 0 };
      for (const row of rows) counts[row.status] = row.count;
      return counts;
    },

    /** Deletes finished mails (sent, failed, held) older than `days`. */
    async prune(days: number): Promise<number> {
      const { rowCount } = await db.query(
        `delete from mail_outbox where status in ('sent', 'failed', 'held') and created_at < now() - make_interval(days => $1::int)`,
        [days],
      );
      return rowCount;
    },
  };
}

export type MailOutboxQueries = ReturnType<typeof createMailOutboxQueries>;
