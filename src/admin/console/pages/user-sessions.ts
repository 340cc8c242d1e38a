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

  /** A POST on a user's page: the form's CSRF token checked, `act` done, back to the page with `done`'s notice. */
  const action = (path: string, act: (sub: string, form: Record<string, string>) => Promise<unknown>, done: (form: Record<string, string>) => string) =>
    router.post(`/users/:sub/${path}`, async (ctx) => {
      const sub = subOf(ctx);
      const form = await readForm(ctx);
      csrf.verify(ctx, form.csrf);
      await act(sub, form);
      ctx.redirect(back(sub, done(form)));
    });

  // A form posted with `uid` ends that session; without, every one.
  action(
    'sessions/end',
    (sub, form) => library.users.endSessions(sub, form.uid || undefined),
    (form) => (form.uid ? 'session-ended' : 'sessions-ended'),
  );
  action(
    'block',
    (sub) => library.users.block(sub),
    () => 'blocked',
  );
  action(
    'unblock',
    (sub) => library.users.unblock(sub),
    () => 'unblocked',
  );
  action(
    'second-factors/reset',
    (sub) => library.users.resetSecondFactors(sub),
    () => 'second-factors-reset',
  );
}
