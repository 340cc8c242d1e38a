import type Router from '@koa/router';
import type { Context } from 'koa';
import { BadRequest } from '../../../errors.ts';
import { readForm } from '../../../web/body.ts';
import { subParams, userChanges } from '../../api/schemas.ts';
import type { AdminUser, UserPage } from '../../library/users.ts';
import { parseOrThrow } from '../../library/validation.ts';
import { formProblem, type ConsolePages } from '../page.ts';

const PAGE_SIZE = 20;

/** The profile fields the console edits (the admin API takes a few more). */
const PROFILE_FIELDS = [
  { name: 'email', label: 'Email', type: 'email' },
  { name: 'phone', label: 'Phone', type: 'tel' },
  { name: 'username', label: 'Username', type: 'text' },
  { name: 'name', label: 'Name', type: 'text' },
  { name: 'nickname', label: 'Nickname', type: 'text' },
] as const;

type Problem = { error?: string; details?: { path: string; message: string }[] };

/** Users wherever the mode keeps them: list, search, create, edit the profile, set the password, delete. */
export function userPages(router: Router, { library, csrf, render }: ConsolePages): void {
  const show = async (ctx: Context, extra: { values?: Record<string, string> } & Problem = {}, status = 200) => {
    const q = typeof ctx.query.q === 'string' ? ctx.query.q.trim() : '';
    const page = Math.max(1, Number(ctx.query.page) || 1);
    let result: UserPage = { total: 0, page, limit: PAGE_SIZE, users: [] };
    let listError: string | undefined;
    try {
      result = q ? await library.users.search(q, page, PAGE_SIZE) : await library.users.list(page, PAGE_SIZE);
    } catch (error) {
      listError = formProblem(error).error;
    }
    await render(
      ctx,
      'users',
      { title: 'Users', section: 'users', q, result, listError, custom: await inCustomStore(), values: extra.values ?? {}, ...extra },
      status,
    );
  };

  const inCustomStore = async () => {
    const connection = await library.connection.view();
    return connection.enabled && connection.mode === 'CUSTOM_USER_STORE';
  };

  const subOf = (ctx: Context) => parseOrThrow(subParams, ctx.params, 'The path is not valid.').sub;

  /** One user's page: the profile form (filled from `values` after a refused change) and the password form. */
  const showUser = async (ctx: Context, user: AdminUser, extra: { values?: Record<string, string> } & Problem = {}, status = 200) => {
    const label = user.email ?? user.username ?? user.phone ?? user.sub;
    await render(
      ctx,
      'user',
      {
        title: `User ${label}`,
        section: 'users',
        user,
        label,
        // The page still shows the profile when the sessions cannot be read.
        sessions: await library.users.sessions(user.sub).catch(() => undefined),
        fields: PROFILE_FIELDS,
        custom: await inCustomStore(),
        ...extra,
        values: extra.values ?? currentValues(user),
      },
      status,
    );
  };

  router.get('/users', (ctx) => show(ctx));

  router.post('/users', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    const values = { email: form.email ?? '', username: form.username ?? '', phone: form.phone ?? '', name: form.name ?? '' };
    try {
      await library.users.create({ ...values, password: form.password ?? '' });
    } catch (error) {
      const problem = formProblem(error);
      return show(ctx, { values, error: problem.error, ...(problem.details ? { details: problem.details } : {}) }, problem.status);
    }
    ctx.redirect('/console/users?done=created');
  });

  router.post('/users/delete', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    try {
      await library.users.delete(form.sub ?? '');
    } catch (error) {
      const problem = formProblem(error);
      return show(ctx, { error: problem.error }, problem.status);
    }
    ctx.redirect('/console/users?done=deleted');
  });

  router.get('/users/:sub', async (ctx) => showUser(ctx, await library.users.get(subOf(ctx))));

  router.post('/users/:sub/profile', async (ctx) => {
    const sub = subOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    const user = await library.users.get(sub);
    const values = Object.fromEntries(PROFILE_FIELDS.map(({ name }) => [name, (form[name] ?? '').trim()]));
    const current = currentValues(user);
    // Only what changed is sent: in CUSTOM_USER_STORE the updateUser script receives exactly that.
    const changed = Object.fromEntries(Object.entries(values).filter(([name, value]) => value !== current[name]));
    if (Object.keys(changed).length === 0) return ctx.redirect(`${userHref(sub)}?done=unchanged`);
    try {
      await library.users.update(sub, parseOrThrow(userChanges, changed, 'The profile is not valid.'));
    } catch (error) {
      const problem = formProblem(error);
      return showUser(ctx, user, { values, error: problem.error, ...(problem.details ? { details: problem.details } : {}) }, problem.status);
    }
    ctx.redirect(`${userHref(sub)}?done=updated`);
  });

  router.post('/users/:sub/password', async (ctx) => {
    const sub = subOf(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    try {
      const password = form.password ?? '';
      if (password === '') throw new BadRequest('Type the new password.', 'invalid_request');
      if (password !== form.password_confirm) throw new BadRequest('The two passwords differ: type the same one twice.', 'invalid_request');
      await library.users.setPassword(sub, password);
    } catch (error) {
      const problem = formProblem(error);
      return showUser(ctx, await library.users.get(sub), { error: problem.error }, problem.status);
    }
    ctx.redirect(`${userHref(sub)}?done=password`);
  });
}

function userHref(sub: string): string {
  return `/console/users/${encodeURIComponent(sub)}`;
}

/** The form's fields as the user has them now ('' for none). */
function currentValues(user: AdminUser): Record<string, string> {
  return Object.fromEntries(
    PROFILE_FIELDS.map(({ name }) => {
      const value = name === 'nickname' ? user.profile.nickname : user[name];
      return [name, typeof value === 'string' ? value : ''];
    }),
  );
}
