import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { readForm } from '../../../web/body.ts';
import { parseOrThrow } from '../../library/validation.ts';
import { ROLE_TEXT, ROLES } from '../../roles.ts';
import { formProblem, type ConsolePages } from '../page.ts';

const newKey = z.object({ name: z.string().trim().min(1).max(100), role: z.enum(ROLES) });
const keyParams = z.object({ id: z.string().min(1).max(100) });

/** Named admin keys (the owner's alone, by the admin-keys area's roles): list, create, revoke. */
export function adminKeyPages(router: Router, { library, csrf, render }: ConsolePages): void {
  const keys = library.adminKeys;
  const show = async (ctx: Context, extra: { values?: Record<string, string>; created?: unknown; error?: string } = {}, status = 200) =>
    render(
      ctx,
      'admin-keys',
      { title: 'Admins', section: 'admin-keys', keys: await keys.list(), roles: ROLES, roleText: ROLE_TEXT, values: {}, created: undefined, ...extra },
      status,
    );

  router.get('/admin-keys', (ctx) => show(ctx));

  router.post('/admin-keys', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    try {
      const input = parseOrThrow(newKey, form, 'The admin key is not valid.');
      // The key is shown on this answer only, never put in a URL or stored.
      return await show(ctx, { created: await keys.create(input.name, input.role) }, 201);
    } catch (error) {
      const problem = formProblem(error);
      return show(ctx, { values: form, error: problem.error }, problem.status);
    }
  });

  router.post('/admin-keys/:id/revoke', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    await keys.revoke(parseOrThrow(keyParams, ctx.params, 'The path is not valid.').id);
    ctx.redirect('/console/admin-keys?done=admin-key-revoked');
  });
}
