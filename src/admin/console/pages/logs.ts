import type Router from '@koa/router';
import { z } from 'zod';
import { SCRIPT_NAMES } from '../../../connection/connection.ts';
import { formProblem, type ConsolePages } from '../page.ts';
import { outcomeKind, scriptName } from '../../api/schemas.ts';
import { parseOrThrow } from '../../library/validation.ts';

const PAGE_SIZE = 50;
/** datetime-local fields carry no zone; the page says they are UTC. */
const utc = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/, 'use YYYY-MM-DD or YYYY-MM-DDTHH:MM')
  .transform((text) => new Date(text.length === 10 ? `${text}T00:00:00Z` : `${text}Z`));
const filter = z.object({
  script: scriptName.optional(),
  outcome: outcomeKind.optional(),
  since: utc.optional(),
  until: utc.optional(),
  before: z.coerce.number().int().positive().optional(),
});

/** GenAuth's log history: every script execution, filtered by script, outcome and time. */
export function logPages(router: Router, { library, render }: ConsolePages): void {
  router.get('/logs', async (ctx) => {
    const raw = Object.fromEntries(Object.entries(ctx.query).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== ''));
    const common = { title: 'Log history', section: 'logs' as const, scripts: SCRIPT_NAMES, outcomes: outcomeKind.options, values: raw };
    try {
      const query = parseOrThrow(filter, raw, 'The filter is not valid.');
      const { items, next } = await library.executions.list({ ...query, limit: PAGE_SIZE });
      const older = next === null ? undefined : `/console/logs?${new URLSearchParams({ ...raw, before: String(next) })}`;
      await render(ctx, 'logs', { ...common, items, older });
    } catch (error) {
      const problem = formProblem(error);
      await render(ctx, 'logs', { ...common, items: [], older: undefined, error: problem.error }, problem.status);
    }
  });
}
