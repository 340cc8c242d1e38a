import Router from '@koa/router';
import { rememberClaims } from '../oidc/adapter.ts';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { FerryError, TooManyRequests } from '../errors.ts';
import { STATUS_OF_REASON, type SignInService, type RequestContext } from '../sign-in/service.ts';
import { readForm } from '../web/body.ts';
import type { Csrf } from '../web/csrf.ts';
import type { Views } from '../web/views.ts';
import type { VerificationPages } from './verification.ts';
import type { SecondFactors } from '../accounts/second-factor.ts';
import type { Throttle } from '../security/throttle.ts';

export interface InteractionDeps {
  provider: () => Provider;
  signIn: SignInService;
  views: Views;
  csrf: Csrf;
  registration: boolean;
  /** Email verification's say in registration and sign-in (src/pages/verification.ts). */
  verification?: Pick<VerificationPages, 'holdSignIn' | 'register'> | undefined;
  /** Second factors: asked for after the password of a subject that has one. */
  secondFactors?: Pick<SecondFactors, 'required' | 'check'> | undefined;
  /** Counts wrong second-factor codes against the account, like wrong passwords. */
  throttle?: Throttle | undefined;
}

/** Signed (with the provider's cookie keys): whose password was right, for the second-factor form of that interaction. */
const SECOND_FACTOR_COOKIE = 'ferry.2fa';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** Checked before the interaction is even looked up: a bad value is refused before any database sees it. */
const LINE_FIELDS = ['identifier', 'email', 'phone', 'username', 'name'] as const;

const SCOPE_TEXT: Record<string, string> = {
  profile: 'your name, username and profile details',
  email: 'your email address',
  phone: 'your phone number',
  address: 'your postal address',
  offline_access: 'stay signed in to it when you are away',
};

/**
 * The hosted pages oidc-provider sends people to: sign-in, registration and consent. Each handler
 * reads the interaction, checks the form, and ends with `interactionFinished`.
 */
export function createInteractionRoutes(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const { views, csrf } = deps;

  const details = async (ctx: Context): Promise<Interaction> => {
    // A missing or stale interaction cookie means the page outlived its sign-in attempt.
    const interaction = await deps
      .provider()
      .interactionDetails(ctx.req, ctx.res)
      .catch((error: Error) => {
        throw error.name === 'SessionNotFound' ? expired() : error;
      });
    if (interaction.uid !== ctx.params.uid) throw expired();
    return interaction;
  };

  /**
   * Gives the finished interaction the account's claims (from this request's reads: the account
   * the password was checked against, or the custom user store's cache), so the resume and the
   * code exchange after it do not read the account again. Without them those steps look it up.
   */
  const carryClaims = async (sub: string) => {
    const claims = await deps.signIn.findClaims(sub).catch(() => undefined);
    if (claims) rememberClaims(sub, claims);
  };

  /** Ends the login prompt for `sub`, saying how they authenticated (`amr` in the ID token). */
  const finish = async (ctx: Context, sub: string, amr: string[]) => {
    await carryClaims(sub);
    await deps.provider().interactionFinished(ctx.req, ctx.res, { login: { accountId: sub, amr } }, { mergeWithLastSubmission: false });
    ctx.respond = false;
  };

  const page = async (ctx: Context, name: string, data: Record<string, unknown>, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = await views.render(name, { csrf: csrf.token(ctx), uid: ctx.params.uid, registration: deps.registration, ...data });
  };

  const clientOf = async (interaction: Interaction) => {
    const client = await deps.provider().Client.find(String(interaction.params.client_id));
    return { id: client?.clientId, name: client?.clientName ?? client?.clientId ?? 'the application' };
  };

  const requestContext = async (ctx: Context, interaction: Interaction, form: Record<string, string>): Promise<RequestContext> => {
    const client = await clientOf(interaction);
    const { password: _password, password_confirm: _confirm, csrf: _csrf, ...body } = form;
    return { ip: ctx.ip, clientId: client.id, clientName: client.name, body };
  };

  router.get('/', async (ctx) => {
    const interaction = await details(ctx);
    const client = await clientOf(interaction);
    if (interaction.prompt.name === 'login') {
      return page(ctx, 'login', { title: 'Sign in', client, identifier: String(interaction.params.login_hint ?? ''), error: undefined });
    }
    if (interaction.prompt.name === 'consent') {
      return page(ctx, 'consent', { title: 'Allow access', client, scopes: consentScopes(interaction) });
    }
    throw new FerryError(`Unsupported prompt ${interaction.prompt.name}.`);
  });

  router.post('/login', async (ctx) => {
    const form = await readForm(ctx, { lines: LINE_FIELDS });
    const interaction = await details(ctx);
    csrf.verify(ctx, form.csrf);
    if (interaction.prompt.name !== 'login') throw expired();
    const identifier = form.identifier ?? '';
    const result = await deps.signIn.signIn(identifier, form.password ?? '', await requestContext(ctx, interaction, form));
    if (!result.ok) {
      if (result.retryAfterSeconds) ctx.set('retry-after', String(result.retryAfterSeconds));
      return page(ctx, 'login', { title: 'Sign in', client: await clientOf(interaction), identifier, error: result.message }, STATUS_OF_REASON[result.reason]);
    }
    if (await deps.verification?.holdSignIn(ctx, result.sub)) return;
    if (await deps.secondFactors?.required(result.sub)) {
      // The password was right; the sign-in finishes only with the second factor.
      ctx.cookies.set(SECOND_FACTOR_COOKIE, `${ctx.params.uid}.${result.sub}`, {
        signed: true,
        httpOnly: true,
        sameSite: 'lax',
        secure: ctx.secure,
        path: '/interaction',
        maxAge: 600_000,
        overwrite: true,
      });
      return page(ctx, 'second-factor', { title: 'Two-step verification', error: undefined });
    }
    await finish(ctx, result.sub, ['pwd']);
  });

  /** The code from the authenticator app (or a recovery code) after a right password. */
  router.post('/two-step', async (ctx) => {
    const form = await readForm(ctx, { lines: ['code'] });
    const interaction = await details(ctx);
    csrf.verify(ctx, form.csrf);
    if (interaction.prompt.name !== 'login' || !deps.secondFactors) throw expired();
    const held = ctx.cookies.get(SECOND_FACTOR_COOKIE, { signed: true }) ?? '';
    const separator = held.indexOf('.');
    const sub = held.slice(separator + 1);
    if (separator < 0 || held.slice(0, separator) !== ctx.params.uid || !sub) throw expired();
    const reservation = deps.throttle ? await deps.throttle.reserve(deps.throttle.keys({ sub }, ctx.ip)) : undefined;
    if (reservation && !reservation.allowed) {
      ctx.set('retry-after', String(reservation.retryAfterSeconds));
      return page(ctx, 'second-factor', { title: 'Two-step verification', error: 'Too many unsuccessful attempts. Please wait and try again.' }, 429);
    }
    const checked = await deps.secondFactors.check(sub, form.code ?? '');
    if (!checked.ok) {
      if (reservation) await deps.throttle!.failed(reservation);
      return page(ctx, 'second-factor', { title: 'Two-step verification', error: 'That code is not right, or it was used already. Try the next one.' }, 400);
    }
    if (reservation) await deps.throttle!.succeeded(reservation);
    ctx.cookies.set(SECOND_FACTOR_COOKIE, null, { path: '/interaction' });
    // RFC 8176: a password and a one-time code; a recovery code counts as a second factor, not as a device.
    await finish(ctx, sub, checked.method === 'otp' ? ['pwd', 'otp', 'mfa'] : ['pwd', 'mfa']);
  });

  router.get('/register', async (ctx) => {
    const interaction = await details(ctx);
    if (!deps.registration || interaction.prompt.name !== 'login') throw expired();
    return page(ctx, 'register', { title: 'Create an account', client: await clientOf(interaction), values: {}, error: undefined });
  });

  router.post('/register', async (ctx) => {
    const form = await readForm(ctx, { lines: LINE_FIELDS });
    const interaction = await details(ctx);
    csrf.verify(ctx, form.csrf);
    if (!deps.registration || interaction.prompt.name !== 'login') throw expired();
    const values = { email: form.email ?? '', phone: form.phone ?? '', username: form.username ?? '', name: form.name ?? '' };
    const retry = (error: string, status: number) =>
      clientOf(interaction).then((client) => page(ctx, 'register', { title: 'Create an account', client, values, error }, status));
    if ((form.password ?? '') !== (form.password_confirm ?? '')) return retry('The two passwords do not match.', 400);
    try {
      const register = async () => deps.signIn.register({ ...values, password: form.password ?? '' }, await requestContext(ctx, interaction, form));
      const sub = deps.verification ? await deps.verification.register(ctx, register, values.email) : (await register()).sub;
      if (sub === undefined) return;
      await finish(ctx, sub, ['pwd']);
    } catch (error) {
      if (error instanceof TooManyRequests) ctx.set('retry-after', String(error.retryAfterSeconds));
      if (error instanceof FerryError && error.expose) return retry(error.message, error.status);
      throw error;
    }
  });

  router.post('/confirm', async (ctx) => {
    const interaction = await details(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    if (interaction.prompt.name !== 'consent') throw expired();
    const provider = deps.provider();
    const { details: missing } = interaction.prompt as { details: { missingOIDCScope?: string[]; missingOIDCClaims?: string[] } };
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: interaction.session!.accountId, clientId: String(interaction.params.client_id) });
    if (!grant) throw expired();
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    const consent = interaction.grantId ? {} : { grantId };
    await provider.interactionFinished(ctx.req, ctx.res, { consent }, { mergeWithLastSubmission: true });
    ctx.respond = false;
  });

  router.post('/abort', async (ctx) => {
    await details(ctx);
    const form = await readForm(ctx);
    csrf.verify(ctx, form.csrf);
    const result = { error: 'access_denied', error_description: 'The user cancelled the sign-in.' };
    await deps.provider().interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.respond = false;
  });

  return router;
}

function consentScopes(interaction: Interaction): string[] {
  const missing = (interaction.prompt.details.missingOIDCScope as string[] | undefined) ?? [];
  return missing.filter((scope) => scope !== 'openid').map((scope) => SCOPE_TEXT[scope] ?? `the "${scope}" permission`);
}

function expired(): FerryError {
  return new FerryError('This sign-in page has expired. Go back to the application and start again.', { status: 400, code: 'interaction_expired' });
}
