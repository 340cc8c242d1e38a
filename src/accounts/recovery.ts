import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { Throttle } from '../security/throttle.ts';
import type { PasswordResetQueries } from '../store/queries/password-resets.ts';
import { parseIdentifier, type Identifier } from './identifier.ts';
import type { AccountLibrary } from './library.ts';
import { checkPasswordPolicy, type PasswordPolicy } from './passwords.ts';

export type ResetRequest = { ok: true } | { ok: false; reason: 'invalid_identifier' } | { ok: false; reason: 'throttled'; retryAfterSeconds: number };
export type ResetResult = { ok: true } | { ok: false; reason: 'invalid_link' };

const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * "Forgot password?" for Ferry's own accounts (registered or migrated). A request is answered the
 * same way, in the same time, whether or not the account exists: the look-up and the mail happen
 * after the answer. The link carries a 256-bit random token of which only the SHA-256 is stored; it
 * works once, for `linkMinutes`. Setting the new password follows the registration policy, signs
 * the user out everywhere (when `revokeSessions`) and mails them that their password changed.
 */
export function createPasswordRecovery(deps: {
  issuer: string;
  linkMinutes: number;
  revokeSessions: boolean;
  policy: PasswordPolicy;
  accounts: AccountLibrary;
  queries: PasswordResetQueries;
  /** Throttle over reset requests (its own policies, not the sign-in's). */
  throttle: Throttle;
  /** Deletes every session, grant and token of a subject; answers how many rows went. */
  revokeAccount(sub: string): Promise<number>;
  mail: { send(template: string, to: string, data: Record<string, unknown>): Promise<unknown> };
  log: Logger;
}) {
  const { queries, log } = deps;
  const pending = new Set<Promise<void>>();

  const issue = async (identifier: Identifier) => {
    const account = await deps.accounts.findByIdentifier(identifier);
    if (!account?.email) return;
    const token = randomBytes(32).toString('base64url');
    await queries.insert(hashOf(token), account.sub, deps.linkMinutes);
    const link = `${deps.issuer}/account/reset?${new URLSearchParams({ token })}`;
    await deps.mail.send('password-reset', account.email, { link, minutes: deps.linkMinutes });
    log.info({ sub: account.sub }, 'password reset link sent');
  };

  return {
    async request(raw: string, ip: string | undefined): Promise<ResetRequest> {
      const identifier = parseIdentifier(raw);
      if (!identifier) return { ok: false, reason: 'invalid_identifier' };
      // Keyed by what was typed, not by the account: the count says nothing about whether one exists.
      const reservation = await deps.throttle.reserve([`reset:${identifier.kind}:${identifier.value}`, ...(ip ? [`ip:reset:${ip}`] : [])]);
      if (!reservation.allowed) return { ok: false, reason: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
      await deps.throttle.failed(reservation);
      const work: Promise<void> = issue(identifier)
        .catch((error: unknown) => log.warn({ err: error }, 'password reset request failed'))
        .finally(() => pending.delete(work));
      pending.add(work);
      return { ok: true };
    },

    /** Whether a link still works (the page shows the form or says it does not). */
    async check(token: string): Promise<boolean> {
      return (await queries.peek(hashOf(token))) !== undefined;
    },

    /** Sets the password through a link; a password the policy refuses throws (BadRequest) and leaves the link unused. */
    async reset(token: string, password: string): Promise<ResetResult> {
      checkPasswordPolicy(password, deps.policy);
      const hash = hashOf(token);
      const sub = await queries.consume(hash);
      const account = sub === undefined ? undefined : await deps.accounts.findBySub(sub);
      if (!account) return { ok: false, reason: 'invalid_link' };
      await deps.accounts.setPassword(account.id, password);
      await queries.deleteOthers(account.sub, hash);
      const revoked = deps.revokeSessions ? await deps.revokeAccount(account.sub) : 0;
      log.info({ sub: account.sub, revoked }, 'password reset');
      if (account.email) await deps.mail.send('password-changed', account.email, { signedOut: deps.revokeSessions });
      return { ok: true };
    },

    /** Waits for requests still being handled after their answer (shutdown, tests). */
    async settle(): Promise<void> {
      await Promise.all([...pending]);
    },

    prune: () => queries.prune(),
  };
}

export type PasswordRecovery = ReturnType<typeof createPasswordRecovery>;
