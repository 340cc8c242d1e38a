import type Router from '@koa/router';
import type { Context } from 'koa';
import { readForm } from '../../../web/body.ts';
import { subParams } from '../../api/schemas.ts';
import { parseOrThrow } from '../../library/validation.ts';
import type { ConsolePages } from '../page.ts';

/** On a user's page: end one or all of their sessions, block and unblock them, remove their second factors. */
export function userSessionPages(router: Router, { library, csrf }: ConsolePages): void {
  const subOf = (ctx: Context) => parseOrThrow(subParams, ctx.params, 'The path is not valid.').sub;
  const back = (sub: string, done: string) => `/console/users/${encodeURIComponent(sub)}?done=${done}`;

  /** A form posted with `uid` ends that session; without, every one. */
  router.post('/users/:sub/sessions/end', async (ctx) => {
    const sub = subOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    await library.users.endSessions(sub, form.uid || undefined);
    ctx.redirect(back(sub, form.uid ? 'session-ended' : 'sessions-ended'));
  });

  router.post('/users/:sub/block', async (ctx) => {
    const sub = subOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    await library.users.block(sub);
    ctx.redirect(back(sub, 'blocked'));
  });

  router.post('/users/:sub/second-factors/reset', async (ctx) => {
    const sub = subOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    await library.users.resetSecondFactors(sub);
    ctx.redirect(back(sub, 'second-factors-reset'));
  });

  router.post('/users/:sub/unblock', async (ctx) => {
    const sub = subOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    await library.users.unblock(sub);
    ctx.redirect(back(sub, 'unblocked'));
  });
}
