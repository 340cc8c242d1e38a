import { z } from 'zod';
import type { AdminLibrary } from '../../library/index.ts';
import { defineRoute } from '../route.ts';
import { logLine, outcomeKind, scriptName } from '../schemas.ts';

const filter = z.object({
  script: scriptName.optional(),
  outcome: outcomeKind.optional(),
  since: z.coerce.date().optional().describe('ISO date-time; executions at or after it.'),
  until: z.coerce.date().optional().describe('ISO date-time; executions before it.'),
  before: z.coerce.number().int().positive().optional().describe('The `next` of the previous page.'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const execution = z.object({
  id: z.number().int(),
  script: z.string(),
  outcome: z.string(),
  durationMs: z.number(),
  message: z.string().nullable(),
  logs: z.array(logLine.or(z.unknown())),
  createdAt: z.string(),
});

/** The script execution log (GenAuth's log history). */
export function executionRoutes(library: AdminLibrary) {
  return [
    defineRoute({
      method: 'get',
      path: '/executions',
      tag: 'executions',
      summary: 'Script executions, newest first, filtered and paged by id',
      query: filter,
      response: z.object({ items: z.array(execution), next: z.number().int().nullable().describe('Pass as `before` for the next page; null on the last.') }),
      errors: [400],
      handle: ({ query }) => library.executions.list(query),
    }),
  ];
}
