import type { MailConfig } from '../../config/schema.ts';
import type { MailOutboxQueries, MailStatus, OutboxRow } from '../../store/queries/mail-outbox.ts';

export const MAIL_STATUSES = ['queued', 'sending', 'sent', 'failed', 'held'] as const satisfies readonly MailStatus[];

/**
 * The outbox as administrators see it. Bodies are shown while a mail is not sent (held mails are
 * how the demo and development read their mail); a sent mail's body is gone from the table.
 */
export function createMailOutbox(deps: { config: MailConfig; queries: MailOutboxQueries }) {
  const view = (row: OutboxRow) => ({
    id: row.id,
    template: row.template,
    to: row.recipient,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.status === 'queued' || row.status === 'sending' ? row.next_attempt_at.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
    text: row.text_body,
  });
  return {
    /** True when mail leaves Ferry; false when mails are only held here. */
    sending: () => Boolean(deps.config.smtpUrl),
    async list(filter: { status?: MailStatus | undefined; before?: number | undefined; limit: number }) {
      const rows = await deps.queries.list({ ...filter, limit: filter.limit + 1 });
      const items = rows.slice(0, filter.limit).map(view);
      return { sending: Boolean(deps.config.smtpUrl), items, next: rows.length > filter.limit ? items[items.length - 1]!.id : null };
    },
  };
}
