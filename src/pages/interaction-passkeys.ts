import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Passkeys } from '../accounts/passkeys.ts';
import { type RequestContext, type SignInService, STATUS_OF_REASON } from '../sign-in/service.ts';

export interface InteractionPasskeyDeps {
  passkeys: Pick<Passkeys, 'signInOptions' | 'secondFactorOptions' | 'authenticate' | 'registrationOptions' | 'register'>;
  /** How an authenticator names the account being enrolled: its email address or username. */
  userOf(sub: string): Promise<{ name: string; displayName: string }>;
  signInWithPasskey: SignInService['signInWithPasskey'];
  /** The interaction's form of a POST, its CSRF token checked, while the login prompt is pending (else the page has expired). */
  loginForm(ctx: Context, lines: string[]): Promise<Record<string, string>>;
  requestContext(ctx: Context, form: Record<string, string>): Promise<RequestContext>;
  /** The sign-in page again, saying what went wrong. */
  loginPage(ctx: Context, error: string, status: number): Promise<void>;
  /** Email verification's hold on a sign-in (true when it has answered). */
  holdSignIn?(ctx: Context, sub: string): Promise<boolean>;
  finish(ctx: Context, sub: string, amr: string[]): Promise<void>;
  /** The second step after a right password (src/pages/interaction-second-factor.ts). */
  twoStep?:
    | {
        heldSub(ctx: Context): string;
        release(ctx: Context): void;
        codePage(ctx: Context, sub: string, error?: string, status?: number): Promise<void>;
        hasFactor(sub: string): Promise<boolean>;
        enrolmentPage(ctx: Context, sub: string, error?: string, status?: number): Promise<boolean>;
        enrolled(ctx: Context, sub: string, codes: string[] | undefined, amr: string[]): Promise<void>;
      }
    | undefined;
}

const NOT_RECOGNISED = 'That passkey is not registered here, or it could not be checked. Try again, or sign in with your password.';
const NOT_CHECKED = 'That passkey could not be checked. Try again, or use a code.';
const NOT_REGISTERED = 'The passkey could not be registered. Try again, or use an authenticator app.';

/**
 * Passkeys on the hosted sign-in pages: a sign-in with a passkey alone (from the button or the
 * browser's autofill), and a passkey as the second step after a password. Each options request
 * makes a challenge bound to this interaction (and, for the second step, to the subject whose
 * password was right); the browser's answer comes back as a form (`response`: the credential as
 * JSON), so a failure is answered with the page, like a wrong password.
 */
export function addInteractionPasskeyRoutes(router: Router, deps: InteractionPasskeyDeps): void {
  const { passkeys } = deps;
  const json = (ctx: Context, body: unknown) => {
    ctx.set('cache-control', 'no-store');
    ctx.body = body;
  };

  router.post('/passkey/options', async (ctx) => {
    await deps.loginForm(ctx, []);
    json(ctx, await passkeys.signInOptions(`sign-in:${ctx.params.uid}`));
  });

  router.post('/passkey', async (ctx) => {
    const form = await deps.loginForm(ctx, []);
    const check = await passkeys.authenticate('sign-in', `sign-in:${ctx.params.uid}`, form.response ?? '');
    if (!check.ok) return deps.loginPage(ctx, NOT_RECOGNISED, 401);
    const result = await deps.signInWithPasskey(check.sub, await deps.requestContext(ctx, form));
    if (!result.ok) return deps.loginPage(ctx, result.message, STATUS_OF_REASON[result.reason]);
    if (await deps.holdSignIn?.(ctx, check.sub)) return;
    await deps.finish(ctx, check.sub, check.amr);
  });

  const { twoStep } = deps;
  if (!twoStep) return;

  router.post('/two-step/passkey/options', async (ctx) => {
    await deps.loginForm(ctx, []);
    const sub = twoStep.heldSub(ctx);
    json(ctx, await passkeys.secondFactorOptions(`second-factor:${ctx.params.uid}:${sub}`, sub));
  });

  router.post('/two-step/passkey', async (ctx) => {
    const form = await deps.loginForm(ctx, []);
    const sub = twoStep.heldSub(ctx);
    const check = await passkeys.authenticate('second-factor', `second-factor:${ctx.params.uid}:${sub}`, form.response ?? '', sub);
    if (!check.ok) return twoStep.codePage(ctx, sub, NOT_CHECKED, 400);
    twoStep.release(ctx);
    await deps.finish(ctx, sub, check.amr);
  });

  /**
   * Enrolment of a first factor during a sign-in that needs one: a passkey instead of the
   * authenticator app. Only for a subject whose password was right in this interaction and who has
   * no factor yet (one who has is asked for it instead); registering it proves the key, so the
   * sign-in goes on with `pwd` + `hwk`/`swk` + `mfa` after the recovery codes.
   */
  const enrolBinding = (ctx: Context, sub: string) => `enrol:${ctx.params.uid}:${sub}`;

  router.post('/two-step/passkey/enrol/options', async (ctx) => {
    await deps.loginForm(ctx, []);
    const sub = twoStep.heldSub(ctx);
    if (await twoStep.hasFactor(sub)) {
      ctx.status = 409;
      return json(ctx, { error: 'factor_exists' });
    }
    json(ctx, await passkeys.registrationOptions(sub, enrolBinding(ctx, sub), await deps.userOf(sub)));
  });

  router.post('/two-step/passkey/enrol', async (ctx) => {
    const form = await deps.loginForm(ctx, []);
    const sub = twoStep.heldSub(ctx);
    if (await twoStep.hasFactor(sub)) return twoStep.codePage(ctx, sub);
    const added = await passkeys.register(sub, enrolBinding(ctx, sub), form.response ?? '', form.name);
    if (!added) {
      if (await twoStep.enrolmentPage(ctx, sub, NOT_REGISTERED, 400)) return;
      return twoStep.codePage(ctx, sub, NOT_REGISTERED, 400);
    }
    await twoStep.enrolled(ctx, sub, added.codes, ['pwd', added.amr, 'mfa']);
  });
}
