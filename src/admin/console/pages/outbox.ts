import type Router from '@koa/router';
import { z } from 'zod';
import { MAIL_STATUSES } from '../../library/mail.ts';
import { parseOrThrow } from '../../library/validation.ts';
import { formProblem, type ConsolePages } from '../page.ts';

const PAGE_SIZE = 50;
const filter = z.object({
  status: z.enum(MAIL_STATUSES).optional(),
  before: z.coerce.number().int().positive().optional(),
});

/** The mail outbox; without SMTP the held mails (and their links) are read here. */
export function outboxPages(router: Router, { library, render }: ConsolePages): void {
  router.get('/outbox', async (ctx) => {
    const raw = Object.fromEntries(Object.entries(ctx.query).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== ''));
    const common = { title: 'Outbox', section: 'outbox' as const, statuses: MAIL_STATUSES, values: raw, sending: library.mail.sending() };
    try {
      const query = parseOrThrow(filter, raw, 'The filter is not valid.');
      const { items, next } = await library.mail.list({ ...query, limit: PAGE_SIZE });
      const older = next === null ? undefined : `/console/outbox?${new URLSearchParams({ ...raw, before: String(next) })}`;
      await render(ctx, 'outbox', { ...common, items, older });
    } catch (error) {
      const problem = formProblem(error);
      await render(ctx, 'outbox', { ...common, items: [], older: undefined, error: problem.error }, problem.status);
    }
  });
}
