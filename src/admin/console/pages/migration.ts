import type Router from '@koa/router';
import type { Context } from 'koa';
import { readForm } from '../../../web/body.ts';
import { perDayChart, progressWidth } from '../chart.ts';
import { formProblem, type ConsolePages } from '../page.ts';

/**
 * Migration progress (counts by way in, a progress bar, per-day migrations drawn as SVG on the
 * server), the sweep's start and pause, and the retirement of the legacy database.
 */
export function migrationPages(router: Router, { library, csrf, render }: ConsolePages): void {
  const show = async (ctx: Context, problem: { error?: string } = {}, status = 200) => {
    const migration = await library.migration.status();
    await render(
      ctx,
      'migration',
      {
        title: 'Migration',
        section: 'migration',
        status: migration,
        chart: perDayChart(migration.perDay),
        progressWidth: progressWidth(migration.progress),
        connection: await library.connection.view(),
        ...problem,
      },
      status,
    );
  };

  router.get('/migration', async (ctx) => show(ctx));

  router.post('/migration/sweep', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    try {
      if (form.action === 'pause') await library.sweep.pause();
      else await library.sweep.start({ restart: form.action === 'restart' });
    } catch (error) {
      const problem = formProblem(error);
      return show(ctx, problem, problem.status);
    }
    ctx.redirect(`/console/migration?done=${form.action === 'pause' ? 'sweep-paused' : 'sweep'}`);
  });

  router.post('/migration/retire', async (ctx) => {
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    try {
      await library.retirement.retire({ force: form.force === 'yes', by: 'console' });
    } catch (error) {
      const problem = formProblem(error);
      return show(ctx, problem, problem.status);
    }
    ctx.redirect('/console/migration?done=retired');
  });
}
