import type { Context } from 'koa';
import { FerryError } from '../../errors.ts';
import type { Csrf } from '../../web/csrf.ts';
import type { Views } from '../../web/views.ts';
import type { AdminLibrary } from '../library/index.ts';
import { rolesFor, type Admin } from '../roles.ts';

/** Sentences shown after a form was handled and the browser redirected (`?done=<key>`). */
const NOTICES: Record<string, string> = {
  connection: 'The connection was saved. Every instance follows within two seconds.',
  'follow-file': 'The saved settings were forgotten: the configuration file counts again. Every instance follows within two seconds.',
  saved: 'The script was saved as a new version.',
  restored: 'The old version was saved as the newest version.',
  created: 'The user was created.',
  deleted: 'The user was deleted.',
  updated: "The user's profile was saved.",
  unchanged: 'Nothing was changed.',
  password: 'The new password was set.',
  'session-ended': 'The session was ended: that browser must sign in again.',
  'sessions-ended': "All the user's sessions were ended.",
  blocked: 'The user is blocked: they cannot sign in, and their sessions, consents and tokens were revoked.',
  unblocked: 'The user is unblocked and can sign in again.',
  'second-factors-reset':
    "The user's second factors (authenticator app and passkeys) and recovery codes are removed, and their sessions ended: the next sign-in asks for the password alone.",
  sweep: 'The sweep runs in the background; this page shows its progress.',
  'sweep-paused': 'The sweep is paused after the page it was on; start it again to resume.',
  'client-updated': 'The application was saved. Every instance follows within two seconds.',
  'client-disabled': 'The application is disabled: it can neither start a sign-in nor use the token endpoint.',
  'client-enabled': 'The application is enabled again.',
  'client-deleted': 'The application was deleted.',
  'admin-key-revoked': 'The admin key was revoked: it is refused from now on.',
  retired: 'The legacy database is retired: the connection is off, and every Ferry account signs in without it.',
};

export const SECTIONS = [
  { id: 'connection', label: 'Connection', href: '/console/connection' },
  { id: 'scripts', label: 'Scripts', href: '/console/scripts' },
  { id: 'logs', label: 'Log history', href: '/console/logs' },
  { id: 'users', label: 'Users', href: '/console/users' },
  { id: 'clients', label: 'Applications', href: '/console/clients' },
  { id: 'migration', label: 'Migration', href: '/console/migration' },
  { id: 'outbox', label: 'Outbox', href: '/console/outbox' },
  { id: 'admin-keys', label: 'Admins', href: '/console/admin-keys' },
  { id: 'audit', label: 'Audit log', href: '/console/audit' },
] as const;

/** The signed-in admin's role may change what the area shows (a POST there). */
const mayChange = (admin: Admin | undefined, area: string) => admin !== undefined && rolesFor(area, 'post').includes(admin.role);

/** A POST form other than Sign out, with the bare <h2> heading right before it if there is one. */
const POST_FORM = /(<h2>[^<]*<\/h2>\s*)?<form method="post"(?! action="\/console\/logout")[^>]*>([\s\S]*?)<\/form>\s*/g;
const SHOWS_VALUES = /<textarea\b|<select\b|<input\b(?![^>]*type="hidden")/;

/**
 * A page for a role that may only read it, made in this one place rather than in every template:
 * a form that shows values (a profile, a script, an application's settings) becomes a disabled
 * fieldset without its buttons, and a form that is only a button (Block, Delete) goes, with its
 * heading. The server refuses those POSTs anyway (403).
 */
const readOnly = (html: string) =>
  html.replace(POST_FORM, (_whole, heading: string | undefined, inner: string) => {
    if (!SHOWS_VALUES.test(inner)) return '';
    const fields = inner.replace(/<input type="hidden" name="csrf"[^>]*>\s*/g, '').replace(/<button\b[\s\S]*?<\/button>\s*/g, '');
    return `${heading ?? ''}<fieldset class="read-only-form" disabled>${fields}</fieldset>\n`;
  });

export interface PageData extends Record<string, unknown> {
  title: string;
  section: (typeof SECTIONS)[number]['id'] | 'sign-in';
  error?: string | undefined;
  details?: { path: string; message: string }[] | undefined;
}

/** Renders a console page: no caching, a CSRF token for its forms, the navigation and any notice. */
export function createPageRenderer(deps: { views: Views; csrf: Csrf }) {
  return async (ctx: Context, view: string, data: PageData, status = 200): Promise<void> => {
    const done = typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined;
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    const admin = ctx.state.admin as Admin | undefined;
    const html = await deps.views.render(`console/${view}`, {
      csrf: deps.csrf.token(ctx),
      sections: SECTIONS.filter((item) => admin && rolesFor(item.id, 'get').includes(admin.role)),
      admin,
      notice: done,
      error: undefined,
      details: undefined,
      json: (value: unknown) => JSON.stringify(value, null, 2),
      ...data,
    });
    ctx.body = data.section === 'sign-in' || mayChange(admin, data.section) ? html : readOnly(html);
  };
}

export type RenderPage = ReturnType<typeof createPageRenderer>;

/**
 * A form's failure as the alert its page shows again; anything not meant for people is rethrown
 * (the error page handles it).
 */
export function formProblem(error: unknown): { error: string; details?: { path: string; message: string }[]; status: number } {
  if (error instanceof FerryError && error.expose) {
    const details = (error as { details?: unknown }).details;
    return { error: error.message, status: error.status, ...(Array.isArray(details) ? { details: details as { path: string; message: string }[] } : {}) };
  }
  throw error;
}

/** What every group of console pages is given. */
export interface ConsolePages {
  library: AdminLibrary;
  csrf: Csrf;
  render: RenderPage;
}
