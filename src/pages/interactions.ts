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
import { acrOf, MFA_REASON, mfaRequired } from '../oidc/mfa-policy.ts';
import { createSecondFactorStep } from './interaction-second-factor.ts';
import { addInteractionPasskeyRoutes } from './interaction-passkeys.ts';
import type { Passkeys } from '../accounts/passkeys.ts';
import type { Throttle } from '../security/throttle.ts';

export interface InteractionDeps {
  provider: () => Provider;
  signIn: SignInService;
  views: Views;
  csrf: Csrf;
  registration: boolean;
  /** Email verification's say in registration and sign-in (src/pages/verification.ts). */
  verification?: Pick<VerificationPages, 'holdSignIn' | 'register'> | undefined;
  /** Second factors: asked for after the password of a subject that has one, enrolled during the sign-in when required. */
  secondFactors?: Pick<SecondFactors, 'required' | 'check' | 'begin' | 'confirm' | 'status'> | undefined;
  /** Passkeys: a sign-in on their own, or the second step after a password. */
  passkeys?: Passkeys | undefined;
  /** `mfa.required`: every sign-in needs a second factor. */
  mfaRequired?: boolean | undefined;
  /** Counts wrong second-factor codes against the account, like wrong passwords. */
  throttle?: Throttle | undefined;
}

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
  /** Whether the login page offers a passkey (the button, and the browser's autofill). */
  const passkeys = deps.passkeys !== undefined;

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

  /** Ends the login prompt for `sub`, saying how they authenticated (`amr` and `acr` in the ID token). */
  const finish = async (ctx: Context, sub: string, amr: string[]) => {
    await carryClaims(sub);
    const login = { accountId: sub, amr, acr: acrOf(amr) };
    await deps.provider().interactionFinished(ctx.req, ctx.res, { login }, { mergeWithLastSubmission: false });
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

  /** Whether this sign-in needs a second factor (global policy, the client's `require_mfa`, or `acr_values`). */
  const mfaRequiredBy = async (interaction: Interaction) =>
    mfaRequired(deps.mfaRequired === true, await deps.provider().Client.find(String(interaction.params.client_id)), interaction.params.acr_values);

  /** The interaction's form of a POST, its CSRF token checked, while the login prompt is pending (else the page has expired). */
  const loginForm = async (ctx: Context, lines: string[]) => {
    const form = await readForm(ctx, { lines });
    const interaction = await details(ctx);
    csrf.verify(ctx, form.csrf);
    if (interaction.prompt.name !== 'login') throw expired();
    return form;
  };

  /** How an authenticator app or a passkey names the account: its email address, username or phone number. */
  const userOf = async (sub: string) => {
    const claims = await deps.signIn.findClaims(sub).catch(() => undefined);
    const name = String(claims?.email ?? claims?.preferred_username ?? claims?.phone_number ?? sub);
    return { name, displayName: String(claims?.name ?? name) };
  };
  const twoStep =
    deps.secondFactors &&
    createSecondFactorStep(router, {
      secondFactors: deps.secondFactors,
      throttle: deps.throttle,
      loginForm,
      page,
      finish,
      ...(deps.passkeys ? { methods: methodsOf(deps.passkeys, deps.secondFactors), passkeyEnrolment: true } : {}),
      labelOf: async (sub) => (await userOf(sub)).name,
      expired,
    });

  const requestContext = async (ctx: Context, interaction: Interaction, form: Record<string, string>): Promise<RequestContext> => {
    const client = await clientOf(interaction);
    const { password: _password, password_confirm: _confirm, csrf: _csrf, response: _response, ...body } = form;
    return { ip: ctx.ip, clientId: client.id, clientName: client.name, body };
  };

  if (deps.passkeys) {
    addInteractionPasskeyRoutes(router, {
      passkeys: deps.passkeys,
      userOf,
      signInWithPasskey: deps.signIn.signInWithPasskey,
      loginForm,
      requestContext: async (ctx, form) => requestContext(ctx, await details(ctx), form),
      loginPage: async (ctx, error, status) =>
        page(ctx, 'login', { title: 'Sign in', client: await clientOf(await details(ctx)), identifier: '', error, passkeys: true }, status),
      holdSignIn: deps.verification ? (ctx, sub) => deps.verification!.holdSignIn(ctx, sub) : undefined,
      finish,
      twoStep,
    });
  }

  router.get('/', async (ctx) => {
    const interaction = await details(ctx);
    const client = await clientOf(interaction);
    if (interaction.prompt.name === 'login') {
      // A session that only lacks the second factor this request needs (step-up): its code, or enrolment, without the password again.
      const sub = interaction.session?.accountId;
      const reasons = interaction.prompt.reasons;
      if (sub && reasons.length === 1 && reasons[0] === MFA_REASON && (await twoStep?.ask(ctx, sub, async () => true))) return;
      return page(ctx, 'login', { title: 'Sign in', client, identifier: String(interaction.params.login_hint ?? ''), error: undefined, passkeys });
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
      return page(
        ctx,
        'login',
        { title: 'Sign in', client: await clientOf(interaction), identifier, error: result.message, passkeys },
        STATUS_OF_REASON[result.reason],
      );
    }
    if (await deps.verification?.holdSignIn(ctx, result.sub)) return;
    if (await twoStep?.ask(ctx, result.sub, () => mfaRequiredBy(interaction))) return;
    await finish(ctx, result.sub, ['pwd']);
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

/** The second-factor page offers a passkey when the subject has one, and the code field when they have TOTP or recovery codes. */
function methodsOf(passkeys: Pick<Passkeys, 'list'>, secondFactors: Pick<SecondFactors, 'status'>) {
  return async (sub: string) => {
    const [own, status] = await Promise.all([passkeys.list(sub), secondFactors.status(sub)]);
    return { passkey: own.length > 0, code: status.totp || status.recoveryCodesLeft > 0 || own.length === 0 };
  };
}

function expired(): FerryError {
  return new FerryError('This sign-in page has expired. Go back to the application and start again.', { status: 400, code: 'interaction_expired' });
}
