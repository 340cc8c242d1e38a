import { z } from 'zod';
import type { AdminLibrary } from '../../library/index.ts';
import { defineRoute } from '../route.ts';

export const sweepStatus = z.object({
  state: z.enum(['idle', 'running', 'paused', 'done', 'failed']).describe('idle: never started.'),
  nextPage: z.number().int().describe('The listUsers page read next (1-based): where a resumed sweep goes on.'),
  pageSize: z.number().int(),
  total: z.number().int().nullable().describe("listUsers' totalCount at the last page read."),
  seen: z.number().int().describe('Users listed so far.'),
  created: z.number().int().describe('Accounts the sweep created.'),
  skipped: z.number().int().describe('Users already in Ferry (migrated by sign-in, imported, or swept before).'),
  failed: z.number().int().describe('Users not imported: a conflict (another account holds the identifier), an unknown hash format, a bad profile.'),
  failures: z.array(z.object({ page: z.number().int(), id: z.string().optional(), error: z.string() })).describe('The last 100 failures.'),
  lastError: z.string().nullable().describe('Why the last page did not go through (the sweep retries, or failed).'),
  runningOn: z.string().nullable().describe('The instance holding the lease (host:pid:…), while one does.'),
  startedAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const retirement = z.object({
  at: z.string(),
  remaining: z.number().int().nullable().describe('Users still only in the legacy database when it was retired.'),
  legacyTotal: z.number().int().nullable(),
  forced: z.boolean(),
  by: z.string(),
});

const sweepStart = z
  .object({
    pageSize: z.number().int().min(1).max(1000).optional().describe('Users per listUsers call (default 100).'),
    delayMs: z.number().int().min(0).max(60_000).optional().describe('A pause between pages (default 0).'),
    leaseSeconds: z.number().int().min(5).max(3600).optional().describe("How long an instance's claim lasts without renewal (default 60)."),
    restart: z.boolean().optional().describe('Start again from page 1 instead of resuming a paused or failed sweep.'),
  })
  .strict();

/** The sweep of listUsers and the retirement of the legacy database. */
export function sweepRoutes(library: AdminLibrary) {
  return [
    defineRoute({
      method: 'get',
      path: '/migration/sweep',
      tag: 'migration',
      summary: 'Progress of the sweep that imports the legacy users who never signed in',
      response: sweepStatus,
      handle: () => library.sweep.status(),
    }),
    defineRoute({
      method: 'post',
      path: '/migration/sweep',
      tag: 'migration',
      summary: 'Start the sweep, or resume a paused or failed one; it runs in the background on one instance at a time',
      description:
        'Walks listUsers page by page and imports each user not yet in Ferry, with the legacy hash when listUsers returns passwordHash. Progress is kept in the store: a crash or restart resumes at the page it was on. 409 when the connection is not an enabled LAZY_MIGRATION one, or listUsers is not written.',
      body: sweepStart,
      response: sweepStatus,
      errors: [400, 409],
      handle: ({ body }) => library.sweep.start(body),
    }),
    defineRoute({
      method: 'post',
      path: '/migration/sweep/pause',
      tag: 'migration',
      summary: 'Pause the sweep after the page in hand (POST /migration/sweep resumes it)',
      response: sweepStatus,
      handle: () => library.sweep.pause(),
    }),
    defineRoute({
      method: 'post',
      path: '/migration/retire',
      tag: 'migration',
      summary: 'Retire the legacy database: switch the connection off; every Ferry account keeps signing in',
      description:
        'Refused (409 users_remaining) while users are still only in the legacy database, unless force is true: a forced retirement is logged with how many were left behind, who cannot sign in any more.',
      body: z.object({ force: z.boolean().optional().describe('Retire even though users remain only in the legacy database (logged).') }).strict(),
      response: retirement,
      errors: [400, 409],
      handle: ({ body }) => library.retirement.retire({ force: body.force, by: 'api' }),
    }),
  ];
}
