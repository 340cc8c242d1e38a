import type Router from '@koa/router';
import type { Context } from 'koa';
import { readForm } from '../../../web/body.ts';
import type { UserPage } from '../../library/users.ts';
import { formProblem, type ConsolePages } from '../page.ts';

const PAGE_SIZE = 20;

/** Users wherever the mode keeps them: list, search, create, delete. */
export function userPages(router: Router, { library, csrf, render }: ConsolePages): void {
  const show = async (ctx: Context, extra: { values?: Record<string, string>; error?: string; details?: { path: string; message: string }[] } = {}, status = 200) => {
    const q = typeof ctx.query.q === 'string' ? ctx.query.q.trim() : '';
    const page = Math.max(1, Number(ctx.query.page) || 1);
    let result: UserPage = { total: 0, page, limit: PAGE_SIZE, users: [] };
    let listError: string | undefined;
    try {
      result = q ? await library.users.search(q, page, PAGE_SIZE) : await library.users.list(page, PAGE_SIZE);
    } catch (error) {
      listError = formProblem(error).error;
    }
    const connection = await library.connection.view();
    const custom = connection.enabled && connection.mode === 'CUSTOM_USER_STORE';
    await render(ctx, 'users', { title: 'Users', section: 'users', q, result, listError, custom, values: extra.values ?? {}, ...extra }, status);
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
}
