import { createHash, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Logger } from '../log.ts';
import type { SecondFactorQueries } from '../store/queries/second-factors.ts';

/** RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30-second steps. */
const PERIOD = 30;
const DIGITS = 6;
/** Codes one step either side of now are accepted (clock drift); each step's code works once. */
const WINDOW = 1;
const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/**
 * A TOTP secret carried over from another system (`totpSecret` on an imported or migrated
 * profile): base32, spaces and padding ignored, at least 80 bits. Answers the secret to store, or
 * why it cannot be used.
 */
export function parseTotpSecret(value: unknown): { ok: true; secret: string } | { ok: false; problem: string } {
  const secret = typeof value === 'string' ? value.replace(/[\s=]/g, '').toUpperCase() : '';
  if (!/^[A-Z2-7]{16,128}$/.test(secret)) return { ok: false, problem: 'totpSecret must be a base32 TOTP secret of 16 to 128 characters (80 bits or more).' };
  return { ok: true, secret };
}

export type SecondFactorCheck = { ok: true; method: 'otp' | 'recovery' } | { ok: false };

const hashOf = (code: string) => createHash('sha256').update(code, 'utf8').digest('hex');
/** Recovery codes are typed by people: case, spaces and dashes do not matter. */
const normaliseRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');

function recoveryCode(): string {
  // 10 characters from 31 (no look-alikes): about 50 bits, in two groups of five.
  const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

/**
 * Second factors of a subject (a Ferry account or a custom user store's user alike): TOTP from an
 * authenticator app, confirmed by a first code, and ten single-use recovery codes shown once.
 */
export function createSecondFactors(deps: {
  issuer: string;
  queries: SecondFactorQueries;
  /** Ferry's own accounts, whose read (remembered for the request) already says whether there is a factor. */
  accounts?: { findBySub(sub: string): Promise<{ second_factor?: boolean } | undefined> };
  log: Logger;
  /**
   * The subject's browser sessions: turning the factor off or replacing the recovery codes ends
   * all but the one asking, as a password reset ends them, so a session someone opened with the
   * old factor (a stolen phone, a leaked code) does not outlive the change.
   */
  sessions?: { endOthers(sub: string, keepUid: string | undefined): Promise<number> } | undefined;
  /** Factors turned on and off by their user, and new recovery codes, are recorded (an admin's reset is, by the admin library). */
  audit?: { record(event: { type: string; actor?: string; subject?: string; detail?: Record<string, unknown> }): void } | undefined;
}) {
  const { queries, log } = deps;
  const issuerName = new URL(deps.issuer).host;
  const totpOf = (secret: string, label: string) =>
    new TOTP({ issuer: issuerName, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secret) });

  /** The time step of a code for `secret`, if it is valid now (within the window). */
  const stepOf = (secret: string, code: string): number | undefined => {
    const token = code.replace(/\s/g, '');
    if (!/^\d{6}$/.test(token)) return undefined;
    const delta = totpOf(secret, '').validate({ token, window: WINDOW });
    if (delta === null) return undefined;
    return TOTP.counter({ period: PERIOD }) + delta;
  };

  const newRecoveryCodes = async (sub: string): Promise<string[]> => {
    const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
    await queries.setRecoveryCodes(
      sub,
      codes.map((code) => hashOf(normaliseRecoveryCode(code))),
    );
    return codes;
  };

  return {
    /** Whether the subject must give a second factor at sign-in, and how many recovery codes are left. */
    async status(sub: string): Promise<{ totp: boolean; recoveryCodesLeft: number }> {
      // Recovery codes stand in for a passkey as well as for TOTP (src/accounts/passkeys.ts).
      const factor = await queries.totp(sub);
      return { totp: factor?.confirmed === true, recoveryCodesLeft: await queries.recoveryCodesLeft(sub) };
    },

    /**
     * The secret to enrol (the one being enrolled, or a new one), with its otpauth:// URI and a QR
     * code as inline SVG; undefined when a confirmed factor exists (turn it off first).
     */
    async begin(sub: string, label: string): Promise<{ secret: string; uri: string; qrSvg: string } | undefined> {
      // The secret being enrolled stays while it is unconfirmed: a reload or a wrong first code does not undo the scan.
      const pending = await queries.totp(sub);
      if (pending?.confirmed) return undefined;
      const secret = pending?.secret ?? new Secret({ size: 20 }).base32;
      if (!pending && !(await queries.beginTotp(sub, secret))) return undefined;
      const uri = totpOf(secret, label).toString();
      const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { secret, uri, qrSvg };
    },

    /** Confirms the factor being enrolled with its first code; answers the recovery codes to show once. */
    async confirm(sub: string, code: string): Promise<string[] | undefined> {
      const factor = await queries.totp(sub);
      if (!factor || factor.confirmed) return undefined;
      const step = stepOf(factor.secret, code);
      if (step === undefined || !(await queries.takeStep(sub, step, true))) return undefined;
      log.info({ sub }, 'second factor turned on');
      deps.audit?.record({ type: 'second-factor.on', actor: 'user', subject: sub });
      return newRecoveryCodes(sub);
    },

    /** Checks a code at sign-in: a TOTP code (each works once) or a recovery code (each works once). */
    async check(sub: string, code: string): Promise<SecondFactorCheck> {
      const factor = await queries.totp(sub);
      // Recovery codes work without TOTP too: they stand in for a passkey as well.
      const step = factor?.confirmed ? stepOf(factor.secret, code) : undefined;
      if (step !== undefined) return (await queries.takeStep(sub, step, false)) ? { ok: true, method: 'otp' } : { ok: false };
      const recovery = normaliseRecoveryCode(code);
      if (recovery.length === 10 && (await queries.useRecoveryCode(sub, hashOf(recovery)))) {
        log.info({ sub }, 'recovery code used');
        return { ok: true, method: 'recovery' };
      }
      return { ok: false };
    },

    /** Whether a sign-in of `sub` needs a second factor (TOTP or a passkey): from the account read this request already made, else asked. */
    async required(sub: string): Promise<boolean> {
      const account = await deps.accounts?.findBySub(sub);
      if (account?.second_factor !== undefined) return account.second_factor;
      return queries.any(sub);
    },

    /** The recovery codes that come with a first factor (a passkey's): nothing is replaced, so no session ends. */
    firstRecoveryCodes: (sub: string): Promise<string[]> => newRecoveryCodes(sub),

    /** New recovery codes in place of the old ones, asked for by the user in the session `keepSession`: the others end. */
    async newRecoveryCodes(sub: string, keepSession?: string): Promise<string[]> {
      const codes = await newRecoveryCodes(sub);
      const sessionsEnded = (await deps.sessions?.endOthers(sub, keepSession)) ?? 0;
      log.info({ sub, sessionsEnded }, 'recovery codes replaced');
      deps.audit?.record({ type: 'second-factor.recovery-codes', actor: 'user', subject: sub, detail: { sessionsEnded } });
      return codes;
    },

    /** Turns TOTP off (passkeys stay: each is removed on its own), by the user in the session `keepSession`: the others end. */
    async turnOff(sub: string, keepSession?: string): Promise<void> {
      await queries.removeTotp(sub);
      const sessionsEnded = (await deps.sessions?.endOthers(sub, keepSession)) ?? 0;
      log.info({ sub, sessionsEnded }, 'second factor turned off');
      deps.audit?.record({ type: 'second-factor.off', actor: 'user', subject: sub, detail: { sessionsEnded } });
    },
  };
}

export type SecondFactors = ReturnType<typeof createSecondFactors>;
