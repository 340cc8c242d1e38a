import { z } from 'zod';
import type { AdminLibrary } from '../../library/index.ts';
import { MAIL_STATUSES } from '../../library/mail.ts';
import { defineRoute } from '../route.ts';

const filter = z.object({
  status: z.enum(MAIL_STATUSES).optional(),
  before: z.coerce.number().int().positive().optional().describe('The `next` of the previous page.'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const mail = z.object({
  id: z.number().int(),
  template: z.string(),
  to: z.string(),
  subject: z.string(),
  status: z.enum(MAIL_STATUSES),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable().describe('When a queued mail is tried next (for one being sent: when its lease ends).'),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  text: z.string().nullable().describe('The plain-text body; null once the mail was sent.'),
});

/** The mail outbox: what Ferry sent, is sending, gave up or holds (without SMTP). */
export function mailRoutes(library: AdminLibrary) {
  return [
    defineRoute({
      method: 'get',
      path: '/mail/outbox',
      tag: 'mail',
      summary: 'Mails in the outbox, newest first, filtered by status and paged by id',
      query: filter,
      response: z.object({
        sending: z.boolean().describe('False when no SMTP server is configured: mails are held, never sent.'),
        items: z.array(mail),
        next: z.number().int().nullable().describe('Pass as `before` for the next page; null on the last.'),
      }),
      errors: [400],
      handle: ({ query }) => library.mail.list(query),
    }),
  ];
}
