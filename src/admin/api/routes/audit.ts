import { Readable } from 'node:stream';
import { z } from 'zod';
import type { AuditItem } from '../../../audit/index.ts';
import { NotFound } from '../../../errors.ts';
import type { AdminLibrary } from '../../library/index.ts';
import { defineRoute } from '../route.ts';

const type = z
  .string()
  .regex(/^[a-z][a-z0-9.-]{0,63}$/)
  .optional()
  .describe('An event type (`sign-in.failed`), or a prefix ending in a dot (`admin.`).');
const where = {
  type,
  subject: z.string().min(1).max(255).optional(),
  since: z.coerce.date().optional().describe('ISO date-time; events at or after it.'),
  until: z.coerce.date().optional().describe('ISO date-time; events before it.'),
};
const filter = z.object({
  ...where,
  before: z.coerce.number().int().positive().optional().describe('The `next` of the previous page.'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const event = z.object({
  id: z.number().int(),
  at: z.string(),
  type: z.string(),
  actor: z.string().nullable().describe('Who made an admin change: `adminToken`, `console` or `cli`.'),
  subject: z.string().nullable(),
  identifierHash: z
    .string()
    .nullable()
    .describe('SHA-256 (hex) of the identifier typed at sign-in, as Ferry normalises it (lower-cased email or username, phone digits).'),
  ip: z.string().nullable(),
  clientId: z.string().nullable(),
  outcome: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).describe('For admin changes, `before` and `after` of what changed, secrets masked.'),
});

/** The audit log: sign-ins, throttle blocks, migrations, user blocks and every admin change. */
export function auditRoutes(library: AdminLibrary) {
  const audit = () => {
    if (!library.audit) throw new NotFound('The audit log is not kept here.', 'audit_unavailable');
    return library.audit;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/audit',
      tag: 'audit',
      summary: 'Audit events, newest first, filtered and paged by id',
      query: filter,
      response: z.object({ items: z.array(event), next: z.number().int().nullable().describe('Pass as `before` for the next page; null on the last.') }),
      errors: [400],
      handle: ({ query }) => audit().list(query),
    }),
    defineRoute({
      method: 'get',
      path: '/audit/export',
      tag: 'audit',
      summary: 'Every audit event matching the filter, newest first, as JSON lines (streamed)',
      query: z.object(where),
      streamed: { contentType: 'application/x-ndjson', schema: event, description: 'One event per line.' },
      errors: [400],
      handle: async ({ query, ctx }) => {
        const events = audit().all(query);
        ctx.type = 'application/x-ndjson';
        ctx.set('content-disposition', 'attachment; filename="ferry-audit.jsonl"');
        ctx.body = Readable.from(lines(events));
      },
    }),
  ];
}

async function* lines(events: AsyncIterable<AuditItem>): AsyncGenerator<string> {
  for await (const item of events) yield `${JSON.stringify(event.parse(item))}\n`;
}
