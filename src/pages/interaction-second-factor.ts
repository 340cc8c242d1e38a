import type Router from '@koa/router';
import type { Context } from 'koa';
import type { SecondFactors } from '../accounts/second-factor.ts';
import type { Throttle } from '../security/throttle.ts';

export interface SecondFactorStepDeps {
  secondFactors: Pick<SecondFactors, 'required' | 'check' | 'begin' | 'confirm'>;
  /** Counts wrong codes against the account, like wrong passwords. */
  throttle?: Throttle | undefined;
  /** The interaction's form of a POST, its CSRF token checked, while the login prompt is pending (else the page has expired). */
  loginForm(ctx: Context, lines: string[]): Promise<Record<string, string>>;
  page(ctx: Context, name: string, data: Record<string, unknown>, status?: number): Promise<void>;
  /** Ends the login prompt for `sub`, saying how they authenticated. */
  finish(ctx: Context, sub: string, amr: string[]): Promise<void>;
  /** Which of the subject's factors the code page offers: a passkey, and the code field (TOTP or recovery codes). */
  methods?(sub: string): Promise<{ passkey: boolean; code: boolean }>;
  /** How the authenticator app names the entry: the user's email address or username. */
  labelOf(sub: string): Promise<string>;
  /** Whether the enrolment page also offers a passkey (src/pages/interaction-passkeys.ts has its routes). */
  passkeyEnrolment?: boolean;
  expired(): Error;
}

/** Signed (with the provider's cookie keys): whose password was right, for the second-factor forms of that interaction. */
const HELD_COOKIE = 'ferry.2fa';
/** Signed: whose factor was enrolled and confirmed in that interaction, for the page after the recovery codes. */
const ENROLLED_COOKIE = 'ferry.2fa-enrolled';
/** Signed: how that factor was proven (`amr`, joined by +), for the same page. */
const ENROLLED_AMR_COOKIE = 'ferry.2fa-amr';
const TOTP_ENROLMENT_AMR = ['pwd', 'otp', 'mfa'];
const TITLE = 'Two-step verification';
const WRONG_CODE = 'That code is not right, or it was used already. Try the next one.';
const TOO_MANY = 'Too many unsuccessful attempts. Please wait and try again.';

/**
 * The second step of a sign-in, after a right password or for a session that must step up: the
 * code of the subject's factor, or, when the request needs a second factor and the subject has
 * none, enrolment of an authenticator app right there (QR code, first code, recovery codes shown
 * once) before the sign-in finishes.
 */
export function createSecondFactorStep(router: Router, deps: SecondFactorStepDeps) {
  const { secondFactors, throttle, page } = deps;

  const hold = (ctx: Context, cookie: string, value: string | null) =>
    ctx.cookies.set(cookie, value === null ? null : `${ctx.params.uid}.${value}`, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      path: '/interaction',
      maxAge: 600_000,
      overwrite: true,
    });

  /** The subject held for this interaction in `cookie`; the page has expired without one. */
  const heldSub = (ctx: Context, cookie: string): string => {
    const held = ctx.cookies.get(cookie, { signed: true }) ?? '';
    const separator = held.indexOf('.');
    const sub = held.slice(separator + 1);
    if (separator < 0 || held.slice(0, separator) !== ctx.params.uid || !sub) throw deps.expired();
    return sub;
  };

  const enrolmentPage = async (ctx: Context, sub: string, error?: string, status = 200): Promise<boolean> => {
    const enrolment = await secondFactors.begin(sub, await deps.labelOf(sub));
    if (!enrolment) return false;
    await page(ctx, 'second-factor-enrol', { title: TITLE, enrolment, codes: undefined, error, passkeyEnrol: deps.passkeyEnrolment === true }, status);
    return true;
  };

  /** The page that asks for the second factor: the subject's passkey, a code, or both. */
  const codePage = async (ctx: Context, sub: string, error?: string, status = 200) =>
    page(ctx, 'second-factor', { title: TITLE, error, ...((await deps.methods?.(sub)) ?? { passkey: false, code: true }) }, status);

  /** Runs `check` as one guess of a code, counted by the throttle (`throttle.guess`, as the account area's); 'throttled' when `view` has answered that there were too many. */
  const guarded = async (ctx: Context, sub: string, view: () => Promise<unknown>, check: () => Promise<boolean>): Promise<boolean | 'throttled'> => {
    if (!throttle) return check();
    const guess = await throttle.guess(throttle.keys({ sub }, ctx.ip), check);
    if (guess.allowed) return guess.right;
    ctx.set('retry-after', String(guess.retryAfterSeconds));
    await view();
    return 'throttled';
  };

  /**
   * The second step for `sub`: the code form when they have a factor, enrolment when the request
   * `required` one and they have none (asked only then). False when neither: the sign-in goes on.
   */
  async function ask(ctx: Context, sub: string, required: () => Promise<boolean>): Promise<boolean> {
    const has = await secondFactors.required(sub);
    if (!has && !(await required())) return false;
    hold(ctx, HELD_COOKIE, sub);
    if (!has && (await enrolmentPage(ctx, sub))) return true;
    await codePage(ctx, sub);
    return true;
  }

  /** The code from the authenticator app (or a recovery code). */
  router.post('/two-step', async (ctx) => {
    const form = await deps.loginForm(ctx, ['code']);
    const sub = heldSub(ctx, HELD_COOKIE);
    let method: 'otp' | 'recovery' | undefined;
    const checked = await guarded(
      ctx,
      sub,
      () => codePage(ctx, sub, TOO_MANY, 429),
      async () => {
        const result = await secondFactors.check(sub, form.code ?? '');
        if (result.ok) method = result.method;
        return result.ok;
      },
    );
    if (checked === 'throttled') return;
    if (!checked) return codePage(ctx, sub, WRONG_CODE, 400);
    hold(ctx, HELD_COOKIE, null);
    // RFC 8176: a password and a one-time code; a recovery code counts as a second factor, not as a device.
    await deps.finish(ctx, sub, method === 'otp' ? ['pwd', 'otp', 'mfa'] : ['pwd', 'mfa']);
  });

  /** The first code of the factor being enrolled during the sign-in: the recovery codes are shown once, then the sign-in goes on. */
  router.post('/two-step/enrol', async (ctx) => {
    const form = await deps.loginForm(ctx, ['code']);
    const sub = heldSub(ctx, HELD_COOKIE);
    let codes: string[] | undefined;
    const confirmed = await guarded(
      ctx,
      sub,
      () => enrolmentPage(ctx, sub, TOO_MANY, 429),
      async () => {
        codes = await secondFactors.confirm(sub, form.code ?? '');
        return codes !== undefined;
      },
    );
    if (confirmed === 'throttled') return;
    if (!confirmed) {
      if (await enrolmentPage(ctx, sub, WRONG_CODE, 400)) return;
      // Confirmed meanwhile (another tab): its code is asked as for any sign-in.
      return codePage(ctx, sub);
    }
    return enrolled(ctx, sub, codes, TOTP_ENROLMENT_AMR);
  });

  /**
   * A factor enrolled and proven during the sign-in (`amr`: how): its recovery codes are shown
   * once, and the sign-in finishes after them; without codes to show it finishes now.
   */
  async function enrolled(ctx: Context, sub: string, codes: string[] | undefined, amr: string[]): Promise<void> {
    hold(ctx, HELD_COOKIE, null);
    if (!codes) return deps.finish(ctx, sub, amr);
    hold(ctx, ENROLLED_COOKIE, sub);
    hold(ctx, ENROLLED_AMR_COOKIE, amr.join('+'));
    return page(ctx, 'second-factor-enrol', { title: TITLE, enrolment: undefined, codes, error: undefined, passkeyEnrol: false });
  }

  /** After the recovery codes: the sign-in finishes, with the code that confirmed the factor as its second factor. */
  router.post('/two-step/continue', async (ctx) => {
    await deps.loginForm(ctx, []);
    const sub = heldSub(ctx, ENROLLED_COOKIE);
    const amr = heldSub(ctx, ENROLLED_AMR_COOKIE).split('+');
    hold(ctx, ENROLLED_COOKIE, null);
    hold(ctx, ENROLLED_AMR_COOKIE, null);
    await deps.finish(ctx, sub, amr);
  });

  return {
    ask,
    codePage,
    /** The subject whose password was right in this interaction (the page has expired without one). */
    heldSub: (ctx: Context) => heldSub(ctx, HELD_COOKIE),
    /** The second step is done: the held subject is let go. */
    release: (ctx: Context) => hold(ctx, HELD_COOKIE, null),
    /** Whether `sub` has a factor already (then it is asked for, not enrolled). */
    hasFactor: (sub: string) => secondFactors.required(sub),
    enrolmentPage,
    enrolled,
  };
}
