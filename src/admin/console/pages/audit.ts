import type Router from '@koa/router';
import { z } from 'zod';
import { NotFound } from '../../../errors.ts';
import { parseOrThrow } from '../../library/validation.ts';
import { formProblem, type ConsolePages } from '../page.ts';

const PAGE_SIZE = 50;
/** The types an administrator picks from; the API takes any type or prefix. */
const TYPES = ['sign-in.', 'sign-in.succeeded', 'sign-in.failed', 'sign-in.throttled', 'user.', 'second-factor.', 'password.reset', 'admin.'];
/** datetime-local fields carry no zone; the page says they are UTC. */
const utc = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/, 'use YYYY-MM-DD or YYYY-MM-DDTHH:MM')
  .transform((text) => new Date(text.length === 10 ? `${text}T00:00:00Z` : `${text}Z`));
const filter = z.object({
  type: z
    .string()
    .regex(/^[a-z][a-z0-9.-]{0,63}$/)
    .optional(),
  subject: z.string().max(255).optional(),
  since: utc.optional(),
  until: utc.optional(),
  before: z.coerce.number().int().positive().optional(),
});

/** The audit log, filtered by type, subject and time, newest first; the export link carries the same filter. */
export function auditPages(router: Router, { library, render }: ConsolePages): void {
  router.get('/audit', async (ctx) => {
    const raw = Object.fromEntries(Object.entries(ctx.query).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== ''));
    const common = { title: 'Audit log', section: 'audit' as const, types: TYPES, values: raw };
    try {
      if (!library.audit) throw new NotFound('The audit log is not kept here.', 'audit_unavailable');
      const query = parseOrThrow(filter, raw, 'The filter is not valid.');
      const { items, next } = await library.audit.list({ ...query, limit: PAGE_SIZE });
      const older = next === null ? undefined : `/console/audit?${new URLSearchParams({ ...raw, before: String(next) })}`;
      await render(ctx, 'audit', { ...common, items, older });
    } catch (error) {
      const problem = formProblem(error);
      await render(ctx, 'audit', { ...common, items: [], older: undefined, error: problem.error }, problem.status);
    }
  });
}
