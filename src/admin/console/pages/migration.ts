import type Router from '@koa/router';
import { perDayChart, progressWidth } from '../chart.ts';
import type { ConsolePages } from '../page.ts';

/** Lazy migration progress: counts, a progress bar and per-day migrations, drawn as SVG on the server. */
export function migrationPages(router: Router, { library, render }: ConsolePages): void {
  router.get('/migration', async (ctx) => {
    const status = await library.migration.status();
    await render(ctx, 'migration', {
      title: 'Migration',
      section: 'migration',
      status,
      chart: perDayChart(status.perDay),
      progressWidth: progressWidth(status.progress),
      connection: await library.connection.view(),
    });
  });
}
