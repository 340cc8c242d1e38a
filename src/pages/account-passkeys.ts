import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Passkeys } from '../accounts/passkeys.ts';
import { FerryError } from '../errors.ts';

export interface AccountPasskeyDeps {
  provider: () => Provider;
  passkeys: Passkeys;
  /** How the authenticator names the account: its email address or username. */
  userOf(sub: string): Promise<{ name: string; displayName: string }>;
  /** Throws a FerryError with code `wrong_password` when `current` is not the password of `sub` (any kind of account). */
  checkPassword(sub: string, current: string): Promise<void>;
  /** The signed-in subject of a form's POST (CSRF checked), or undefined when the page has answered 401. */
  signedInForm(ctx: Context, lines?: string[]): Promise<{ form: Record<string, string>; sub: string | undefined }>;
  /** Runs `check` as one guess of the password, counted by the throttle; answers the problem to show. */
  guarded(ctx: Context, sub: string, check: () => Promise<void>): Promise<FerryError | undefined>;
  /** New recovery codes in place of the old ones; the account's sessions other than `keepSession` end. */
  newRecoveryCodes(sub: string, keepSession: string | undefined): Promise<string[]>;
  /** The two-step page, where the passkeys are listed. */
  twoStepPage(ctx: Context, sub: string, data?: Record<string, unknown>, status?: number): Promise<void>;
}

const notGood = () => new FerryError('The passkey could not be registered. Please try again.', { status: 400, code: 'invalid_input' });

/**
 * The passkeys of the account area, on the two-step page (`/account/two-step`): options for the
 * browser (`/account/passkeys/options`, JSON, their challenge bound to this session and account),
 * the browser's answer (`/account/passkeys`), renaming, and removing one, which needs the current
 * password (as the other sensitive changes do): a session left open is not enough to take away
 * the owner's way in, or to weaken their sign-in.
 */
export function addAccountPasskeyRoutes(router: Router, deps: AccountPasskeyDeps): void {
  const { passkeys } = deps;

  const sessionOf = async (ctx: Context) => (await deps.provider().Session.get(ctx)).uid;
  /** The challenge of a registration is bound to the Ferry session and its subject. */
  const bindingOf = async (ctx: Context, sub: string) => `account:${await sessionOf(ctx)}:${sub}`;

  router.post('/passkeys/options', async (ctx) => {
    const { sub } = await deps.signedInForm(ctx);
    if (!sub) return;
    ctx.set('cache-control', 'no-store');
    ctx.body = await passkeys.registrationOptions(sub, await bindingOf(ctx, sub), await deps.userOf(sub));
  });

  router.post('/passkeys', async (ctx) => {
    const { form, sub } = await deps.signedInForm(ctx, ['name']);
    if (!sub) return;
    const added = await passkeys.register(sub, await bindingOf(ctx, sub), form.response ?? '', form.name);
    if (!added) return deps.twoStepPage(ctx, sub, { error: notGood().message }, 400);
    return deps.twoStepPage(ctx, sub, { codes: added.codes, passkeyAdded: true });
  });

  router.post('/passkeys/rename', async (ctx) => {
    const { form, sub } = await deps.signedInForm(ctx, ['id', 'name']);
    if (!sub) return;
    if (!(await passkeys.rename(sub, form.id ?? '', form.name))) return deps.twoStepPage(ctx, sub, { error: 'Give the passkey a name.' }, 400);
    return deps.twoStepPage(ctx, sub);
  });

  router.post('/passkeys/remove', async (ctx) => {
    const { form, sub } = await deps.signedInForm(ctx, ['id']);
    if (!sub) return;
    let removed = false;
    const problem = await deps.guarded(ctx, sub, async () => {
      await deps.checkPassword(sub, form.current_password ?? '');
      // Taking a factor away ends the account's other sessions, as turning TOTP off does.
      removed = await passkeys.remove(sub, form.id ?? '', await sessionOf(ctx));
    });
    if (problem) return deps.twoStepPage(ctx, sub, { error: problem.message }, problem.status);
    if (!removed) return deps.twoStepPage(ctx, sub, { error: 'That passkey is not one of yours, or it was removed already.' }, 404);
    return deps.twoStepPage(ctx, sub, { passkeyRemoved: true });
  });

  /** An account whose factors are passkeys has no app code to give: new recovery codes ask for the current password. */
  router.post('/passkeys/recovery-codes', async (ctx) => {
    const { form, sub } = await deps.signedInForm(ctx);
    if (!sub) return;
    const problem = await deps.guarded(ctx, sub, () => deps.checkPassword(sub, form.current_password ?? ''));
    if (problem) return deps.twoStepPage(ctx, sub, { error: problem.message }, problem.status);
    return deps.twoStepPage(ctx, sub, { codes: await deps.newRecoveryCodes(sub, await sessionOf(ctx)), othersSignedOut: true });
  });
}
