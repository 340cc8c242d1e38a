import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountLibrary } from '../accounts/library.ts';
import { normaliseEmail } from '../accounts/identifier.ts';
import type { Passkeys } from '../accounts/passkeys.ts';
import type { SecondFactors } from '../accounts/second-factor.ts';
import { emailUnverified, type EmailVerification } from '../accounts/verification.ts';
import { FerryError } from '../errors.ts';
import type { Throttle } from '../security/throttle.ts';
import type { AccountQueries, AccountRow } from '../store/queries/accounts.ts';
import type { OidcModelQueries } from '../store/queries/oidc-models.ts';
import { readForm } from '../web/body.ts';
import type { Csrf } from '../web/csrf.ts';
import type { Views } from '../web/views.ts';
import { addAccountPasskeyRoutes } from './account-passkeys.ts';

export interface AccountDeps {
  provider: () => Provider;
  /** validatePassword then updateUser for a custom user store; Ferry's own hash otherwise. */
  changePassword(sub: string, current: string, next: string): Promise<void>;
  /** The claims of a subject (Ferry's account or the custom user store's), to name the account to an authenticator. */
  claimsOf(sub: string): Promise<Record<string, unknown> | undefined>;
  /** The same check of the current password, before removing a passkey. */
  checkPassword(sub: string, current: string): Promise<void>;
  /** Ferry's own accounts (registered, migrated, imported); a custom user store's are not here. */
  accounts: Pick<AccountLibrary, 'findBySub' | 'verifyPassword'>;
  updateAccount: AccountQueries['update'];
  verification: EmailVerification;
  /** Links can be mailed (SMTP, or the demo's outbox): the email change needs one. */
  mailAvailable: boolean;
  models: Pick<OidcModelQueries, 'grantsOf' | 'revokeClientGrants' | 'revokeAccount'>;
  secondFactors: SecondFactors;
  passkeys: Passkeys;
  throttle: Throttle;
  views: Views;
  csrf: Csrf;
}

const MAX_NAME_CHARS = 200;
const MAX_PICTURE_CHARS = 2000;
/** What a form's POST came back to say, after its redirect to GET /account. */
const NOTICES = new Set(['profile', 'email', 'app']);

const wrongPassword = () => new FerryError('The current password is not correct.', { status: 400, code: 'wrong_password' });
const wrongCode = () => new FerryError('That code is not right, or it was used already. Try the next one.', { status: 400, code: 'wrong_password' });
const invalid = (message: string) => new FerryError(message, { status: 400, code: 'invalid_input' });

/** The profile form's values as they are stored, or the reason they cannot be. */
export function profileChanges(form: Record<string, string>): { name: string | undefined; picture: string | undefined } {
  const name = (form.name ?? '').normalize('NFC').trim();
  if (name.length > MAX_NAME_CHARS) throw invalid(`The name is longer than ${MAX_NAME_CHARS} characters.`);
  const picture = (form.picture ?? '').trim();
  if (picture !== '') {
    const url = URL.parse(picture);
    // Relying parties put the picture in an <img>: only an https address is safe to hand them.
    if (url?.protocol !== 'https:' || url.username || url.password || picture.length > MAX_PICTURE_CHARS) {
      throw invalid(`The picture must be an https:// address of at most ${MAX_PICTURE_CHARS} characters.`);
    }
  }
  return { name: name || undefined, picture: picture || undefined };
}

/**
 * The account area for whoever is signed in to Ferry (its session cookie): one page (`/account`)
 * with the profile (name, picture), the email address (confirm it, or change it through a link
 * mailed to the new address), the password (`/account/password`), the applications the account
 * allowed (each can be revoked), and signing out everywhere. Wrong current passwords count
 * against the account's brute-force throttle like failed sign-ins. An account of a custom user
 * store keeps its profile and address in that store: the page shows them as its claims say.
 */
export function createAccountRoutes(deps: AccountDeps): Router {
  const router = new Router({ prefix: '/account' });
  const { views, csrf, models } = deps;

  const render = async (ctx: Context, view: string, data: Record<string, unknown>, status: number) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = await views.render(view, { csrf: csrf.token(ctx), error: undefined, signedIn: true, ...data });
  };

  const subject = async (ctx: Context): Promise<string | undefined> => (await deps.provider().Session.get(ctx)).accountId;

  /** The applications the account allowed, named as their registrations name them. */
  const applications = async (sub: string) => {
    const grants = await models.grantsOf(sub);
    return Promise.all(
      grants.map(async (grant) => {
        const client = await deps.provider().Client.find(grant.clientId);
        return { ...grant, name: client?.clientName ?? grant.clientId };
      }),
    );
  };

  const overview = async (ctx: Context, sub: string, data: Record<string, unknown> = {}, status = 200) => {
    const account = await deps.accounts.findBySub(sub);
    const notice = typeof ctx.query.done === 'string' && NOTICES.has(ctx.query.done) ? ctx.query.done : undefined;
    return render(
      ctx,
      'account',
      {
        title: 'Your account',
        account,
        profile: account ? { name: account.profile.name ?? '', picture: account.profile.photo ?? '' } : undefined,
        unverified: account ? emailUnverified(account) : false,
        mailAvailable: deps.mailAvailable,
        apps: await applications(sub),
        twoStep: await deps.secondFactors.status(sub),
        passkeyCount: (await deps.passkeys.list(sub)).length,
        notice,
        newEmail: '',
        ...data,
      },
      status,
    );
  };

  /** The signed-in subject of a form's POST (its CSRF token checked), or undefined when the page has answered 401. */
  const signedInForm = async (ctx: Context, lines: string[] = [], view = 'account') => {
    const form = await readForm(ctx, { lines });
    csrf.verify(ctx, form.csrf);
    const sub = await subject(ctx);
    if (!sub) await render(ctx, view, { title: view === 'account' ? 'Your account' : 'Change your password', signedIn: false, done: false }, 401);
    return { form, sub };
  };

  /**
   * Runs `check` as one guess of the account's password or code, counted by the throttle like a
   * sign-in (`throttle.guess`, as the sign-in's code form): a `wrong_password` error is a wrong
   * guess; another shown error gives no verdict and is answered as it is.
   */
  const guarded = async (ctx: Context, sub: string, check: () => Promise<void>): Promise<FerryError | undefined> => {
    let wrong: FerryError | undefined;
    try {
      const guess = await deps.throttle.guess(deps.throttle.keys({ sub }, ctx.ip), async () => {
        try {
          await check();
          return true;
        } catch (error) {
          if (!(error instanceof FerryError) || error.code !== 'wrong_password') throw error;
          wrong = error;
          return false;
        }
      });
      if (guess.allowed) return wrong;
      ctx.set('retry-after', String(guess.retryAfterSeconds));
      return new FerryError('Too many unsuccessful attempts. Please wait and try again.', { status: 429, code: 'throttled' });
    } catch (error) {
      if (!(error instanceof FerryError) || !error.expose) throw error;
      return error;
    }
  };

  const ownAccount = async (sub: string): Promise<AccountRow> => {
    const account = await deps.accounts.findBySub(sub);
    if (!account)
      throw new FerryError('Your profile is kept by your organisation’s user directory: change it there.', { status: 409, code: 'not_stored_here' });
    return account;
  };

  router.get('/', async (ctx) => {
    const sub = await subject(ctx);
    if (!sub) return render(ctx, 'account', { title: 'Your account', signedIn: false }, 401);
    return overview(ctx, sub);
  });

  router.post('/profile', async (ctx) => {
    const { form, sub } = await signedInForm(ctx, ['name', 'picture']);
    if (!sub) return;
    try {
      const account = await ownAccount(sub);
      const { name, picture } = profileChanges(form);
      // `photo` is the profile's field for the `picture` claim (product.md's profile → claims table).
      const { name: _name, photo: _photo, ...rest } = account.profile;
      await deps.updateAccount(account.id, { profile: { ...rest, ...(name ? { name } : {}), ...(picture ? { photo: picture } : {}) } });
    } catch (error) {
      if (!(error instanceof FerryError) || !error.expose) throw error;
      return overview(ctx, sub, { error: error.message, profile: { name: form.name ?? '', picture: form.picture ?? '' } }, error.status);
    }
    ctx.redirect('/account?done=profile');
  });

  router.post('/email/change', async (ctx) => {
    const { form, sub } = await signedInForm(ctx, ['email']);
    if (!sub) return;
    const retry = (error: FerryError) => overview(ctx, sub, { error: error.message, newEmail: form.email ?? '' }, error.status);
    if (!deps.mailAvailable)
      return retry(
        new FerryError('This site sends no mail, so the address cannot be changed here. Ask its administrator.', { status: 503, code: 'mail_unavailable' }),
      );
    const email = normaliseEmail(form.email ?? '');
    if (email === undefined) return retry(invalid('Enter the new email address.'));
    let sent: Awaited<ReturnType<EmailVerification['requestChange']>> | undefined;
    const problem = await guarded(ctx, sub, async () => {
      const account = await ownAccount(sub);
      if (!(await deps.accounts.verifyPassword(account, form.current_password ?? ''))) throw wrongPassword();
      sent = await deps.verification.requestChange(sub, email);
    });
    if (problem) return retry(problem);
    if (sent === 'same') return retry(invalid('This is already your address.'));
    if (sent === 'throttled')
      return retry(new FerryError('Several links were sent in the last hour. Please use one of them, or try again later.', { status: 429, code: 'throttled' }));
    ctx.redirect('/account?done=email');
  });

  router.post('/apps/revoke', async (ctx) => {
    const { form, sub } = await signedInForm(ctx, ['client_id']);
    if (!sub) return;
    // Only the signed-in account's own grants are looked at: another account's client_id revokes nothing.
    const revoked = await models.revokeClientGrants(sub, form.client_id ?? '');
    if (!revoked) return overview(ctx, sub, { error: 'That application has no access to your account.' }, 404);
    ctx.redirect('/account?done=app');
  });

  router.post('/sign-out-everywhere', async (ctx) => {
    const { sub } = await signedInForm(ctx);
    if (!sub) return;
    // Every session (this browser's too), every grant and every token of the account.
    await models.revokeAccount(sub);
    return render(ctx, 'account', { title: 'Signed out everywhere', signedIn: false, signedOutEverywhere: true }, 200);
  });

  /** The two-step page: enrolment (QR code, secret, first code) when off; turn off and new recovery codes when on. */
  const twoStepPage = async (ctx: Context, sub: string, data: Record<string, unknown> = {}, status = 200) => {
    const state = await deps.secondFactors.status(sub);
    let enrolment: Awaited<ReturnType<SecondFactors['begin']>>;
    if (!state.totp) {
      const account = await deps.accounts.findBySub(sub);
      enrolment = await deps.secondFactors.begin(sub, account?.email ?? account?.username ?? sub);
    }
    const passkeys = await deps.passkeys.list(sub);
    return render(ctx, 'account-two-step', { title: 'Two-step verification', state, enrolment, passkeys, codes: undefined, ...data }, status);
  };

  addAccountPasskeyRoutes(router, {
    provider: deps.provider,
    passkeys: deps.passkeys,
    userOf: async (sub) => {
      // From the claims, which a custom user store's users have too.
      const claims = (await deps.claimsOf(sub).catch(() => undefined)) ?? {};
      const name = String(claims.email ?? claims.preferred_username ?? claims.phone_number ?? sub);
      return { name, displayName: String(claims.name ?? name) };
    },
    checkPassword: deps.checkPassword,
    newRecoveryCodes: (sub, keepSession) => deps.secondFactors.newRecoveryCodes(sub, keepSession),
    signedInForm: (ctx, lines) => signedInForm(ctx, lines),
    guarded,
    twoStepPage,
  });

  router.get('/two-step', async (ctx) => {
    const sub = await subject(ctx);
    if (!sub) return render(ctx, 'account', { title: 'Your account', signedIn: false }, 401);
    return twoStepPage(ctx, sub);
  });

  router.post('/two-step/confirm', async (ctx) => {
    const { form, sub } = await signedInForm(ctx, ['code']);
    if (!sub) return;
    let codes: string[] | undefined;
    const problem = await guarded(ctx, sub, async () => {
      codes = await deps.secondFactors.confirm(sub, form.code ?? '');
      if (!codes) throw wrongCode();
    });
    if (problem) return twoStepPage(ctx, sub, { error: problem.message }, problem.status);
    return twoStepPage(ctx, sub, { codes });
  });

  /**
   * Turning off and new recovery codes both ask for a current code, so a session left open is not
   * enough; both end the account's other sessions (this browser's stays).
   */
  const withCode = (path: string, act: (sub: string, session: string | undefined) => Promise<string[] | undefined>) =>
    router.post(path, async (ctx) => {
      const { form, sub } = await signedInForm(ctx, ['code']);
      if (!sub) return;
      const problem = await guarded(ctx, sub, async () => {
        if (!(await deps.secondFactors.check(sub, form.code ?? '')).ok) throw wrongCode();
      });
      if (problem) return twoStepPage(ctx, sub, { error: problem.message }, problem.status);
      const session = (await deps.provider().Session.get(ctx)).uid;
      return twoStepPage(ctx, sub, { codes: await act(sub, session), turnedOff: path.endsWith('/off'), othersSignedOut: true });
    });
  withCode('/two-step/off', async (sub, session) => {
    await deps.secondFactors.turnOff(sub, session);
    return undefined;
  });
  withCode('/two-step/recovery-codes', (sub, session) => deps.secondFactors.newRecoveryCodes(sub, session));

  router.get('/password', async (ctx) => {
    const sub = await subject(ctx);
    return render(ctx, 'account-password', { title: 'Change your password', done: false, signedIn: Boolean(sub) }, sub ? 200 : 401);
  });

  router.post('/password', async (ctx) => {
    const { form, sub } = await signedInForm(ctx, [], 'account-password');
    if (!sub) return;
    const retry = (error: string, status: number) => render(ctx, 'account-password', { title: 'Change your password', done: false, error }, status);
    if ((form.password ?? '') !== (form.password_confirm ?? '')) return retry('The two new passwords do not match.', 400);
    const problem = await guarded(ctx, sub, () => deps.changePassword(sub, form.current_password ?? '', form.password ?? ''));
    if (problem) return retry(problem.message, problem.status);
    return render(ctx, 'account-password', { title: 'Change your password', done: true }, 200);
  });

  return router;
}
