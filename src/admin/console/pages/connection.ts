import type Router from '@koa/router';
import type { Context } from 'koa';
import { readForm } from '../../../web/body.ts';
import { changeFromModel, FORM_LIMITS, modelFromForm, modelFromView, type ConnectionModel } from '../connection-form.ts';
import { formProblem, type ConsolePages } from '../page.ts';

/** Enable the connection, pick the mode, fill in the URI or programmatic form, variables and limits. */
export function connectionPages(router: Router, { library, csrf, render }: ConsolePages): void {
  const show = async (ctx: Context, model: ConnectionModel, extra: { error?: string; details?: { path: string; message: string }[] } = {}, status = 200) => {
    const view = await library.connection.view();
    await render(
      ctx,
      'connection',
      { title: 'Connection', section: 'connection', model, limitFields: FORM_LIMITS, scriptsDir: view.scriptsDir, sources: view.sources, ...extra },
      status,
    );
  };

  router.get('/connection', async (ctx) => show(ctx, modelFromView(await library.connection.view())));

  router.post('/connection', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    const model = modelFromForm(form);
    try {
      await library.connection.update(changeFromModel(model));
    } catch (error) {
      const problem = formProblem(error);
      return show(ctx, model, problem, problem.status);
    }
    ctx.redirect('/console/connection?done=connection');
  });

  router.post('/connection/follow-file', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    await library.connection.followFile();
    ctx.redirect('/console/connection?done=follow-file');
  });
}
