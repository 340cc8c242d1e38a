import type { Middleware } from 'koa';
import { FerryError, TooManyRequests } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Views } from './views.ts';

/**
 * The one place errors become responses: JSON for `/api/` and for clients that ask for JSON, the
 * error page for browsers. Messages of unexpected errors are logged, never shown.
 */
export function errorHandler(deps: { views: Views; log: Logger }): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const error = caught instanceof FerryError ? caught : undefined;
      const status = error?.status ?? statusOf(caught) ?? 500;
      const expose = error ? error.expose : status < 500 && (caught as { expose?: boolean }).expose === true;
      const message = expose ? (caught as Error).message : 'Something went wrong on our side. Please try again in a moment.';
      const code = error?.code ?? (status < 500 ? 'bad_request' : 'internal_error');
      if (status >= 500) deps.log.error({ err: caught, path: ctx.path, method: ctx.method }, 'request failed');
      if (caught instanceof TooManyRequests) ctx.set('retry-after', String(caught.retryAfterSeconds));
      // A redirect set before the failure (a code for the client, written too late) must not be followed.
      ctx.remove('location');
      ctx.status = status;
      if (ctx.path.startsWith('/api/') || (ctx.accepts('html', 'json') === 'json' && !ctx.path.startsWith('/interaction/'))) {
        const details = (caught as { details?: unknown }).details;
        ctx.body = { error: code, message, ...(details === undefined ? {} : { details }) };
      } else {
        ctx.type = 'html';
        ctx.body = await deps.views.render('error', { title: 'Something went wrong', message, code });
      }
    }
  };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown; statusCode?: unknown } | undefined)?.status ?? (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}
