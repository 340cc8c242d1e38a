import { createHash, randomBytes } from 'node:crypto';
import { ServiceUnavailable } from '../errors.ts';
import type { LegacyRecovery } from '../connection/recovery.ts';
import type { Logger } from '../log.ts';
import type { Throttle } from '../security/throttle.ts';
import type { AccountRow } from '../store/queries/accounts.ts';
import type { PasswordResetQueries, ResetLink } from '../store/queries/password-resets.ts';
import { parseIdentifier, type Identifier } from './identifier.ts';
import type { AccountLibrary } from './library.ts';
import { checkPasswordPolicy, type PasswordPolicy } from './passwords.ts';
import { subjectOf } from './subject.ts';

export type ResetRequest = { ok: true } | { ok: false; reason: 'invalid_identifier' } | { ok: false; reason: 'throttled'; retryAfterSeconds: number };
export type ResetResult = { ok: true } | { ok: false; reason: 'invalid_link' | 'conflict' };

const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
const UNAVAILABLE = 'Your account cannot be reached right now. Please try again in a few minutes.';

/**
 * "Forgot password?". A request is answered the same way, in the same time, whether or not the
 * account exists: the look-up and the mail happen after the answer. The link carries a 256-bit
 * random token of which only the SHA-256 is stored; it works once, for `linkMinutes`. Setting the
 * new password follows the registration policy, signs the user out everywhere (when
 * `revokeSessions`) and mails them that their password changed. A registered or migrated user's
 * password changes in Ferry; a lazy-migration user who never signed in (found by `legacy`) is
 * migrated at that moment with the new password; a custom user store's user gets it through the
 * store's `updateUser`.
 */
export function createPasswordRecovery(deps: {
  issuer: string;
  subjectPrefix: string;
  linkMinutes: number;
  revokeSessions: boolean;
  policy: PasswordPolicy;
  accounts: AccountLibrary;
  queries: PasswordResetQueries;
  legacy?: LegacyRecovery | undefined;
  /** Throttle over reset requests (its own policies, not the sign-in's). */
  throttle: Throttle;
  /** Deletes every session, grant and token of a subject; answers how many rows went. */
  revokeAccount(sub: string): Promise<number>;
  mail: { send(template: string, to: string, data: Record<string, unknown>): Promise<unknown> };
  log: Logger;
  /** Completed resets are recorded by subject (a request is not: it would name who asked). */
  audit?: { record(event: { type: string; subject?: string; detail?: Record<string, unknown> }): void } | undefined;
}) {
  const { queries, log } = deps;
  const pending = new Set<Promise<void>>();

  /** Who the identifier names and where to mail them: a Ferry account, else an unmigrated legacy user. */
  const recipientOf = async (identifier: Identifier): Promise<{ link: ResetLink; email: string } | undefined> => {
    const account = await deps.accounts.findByIdentifier(identifier);
    if (account) return account.email ? { link: { sub: account.sub }, email: account.email } : undefined;
    const found = await deps.legacy?.find(identifier);
    if (found?.found === 'unavailable') log.warn('password reset: the legacy database could not be asked');
    if (found?.found !== true || !found.email) return undefined;
    return { link: { sub: subjectOf(deps.subjectPrefix, found.legacyId), legacy: { legacyId: found.legacyId, identifier } }, email: found.email };
  };

  const issue = async (identifier: Identifier) => {
    const recipient = await recipientOf(identifier);
    if (!recipient) return;
    const token = randomBytes(32).toString('base64url');
    await queries.insert(hashOf(token), recipient.link, deps.linkMinutes);
    const link = `${deps.issuer}/account/reset?${new URLSearchParams({ token })}`;
    await deps.mail.send('password-reset', recipient.email, { link, minutes: deps.linkMinutes });
    log.info({ sub: recipient.link.sub, legacy: Boolean(recipient.link.legacy) }, 'password reset link sent');
  };

  /**
   * Whose password the link sets: a Ferry account (`account`, `created` when this call migrated
   * the user with the new password), or a custom user store's user whose store already took it
   * (`stored`).
   */
  type Target = { sub: string; email: string | null | undefined; account?: AccountRow; created: boolean };
  const targetFor = async (link: ResetLink, password: string): Promise<Target | 'conflict' | undefined> => {
    const account = await deps.accounts.findBySub(link.sub);
    if (account) return { sub: account.sub, email: account.email, account, created: false };
    if (!link.legacy || !deps.legacy) return undefined;
    const done = await deps.legacy.setPassword(link.legacy.legacyId, link.legacy.identifier, password);
    if (done.ok && 'stored' in done) return { sub: link.sub, email: done.stored.email, created: true };
    if (done.ok) return { sub: done.account.sub, email: done.account.email, account: done.account, created: done.created };
    // Unavailable: the link stays unused, to be tried again.
    if (done.reason === 'unavailable') throw new ServiceUnavailable(UNAVAILABLE);
    return done.reason === 'conflict' ? 'conflict' : undefined;
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
      const normalised = checkPasswordPolicy(password, deps.policy);
      const hash = hashOf(token);
      const link = await queries.peek(hash);
      if (!link) return { ok: false, reason: 'invalid_link' };
      const target = await targetFor(link, normalised);
      if (target === 'conflict') return { ok: false, reason: 'conflict' };
      if (!target || !(await queries.consume(hash))) return { ok: false, reason: 'invalid_link' };
      // A migration this call made (or the custom user store's updateUser) already holds the new
      // password; an account found made (by a racing reset with the same link, or a sign-in) holds another.
      if (!target.created && target.account) await deps.accounts.setPassword(target.account.id, normalised);
      await queries.deleteOthers(target.sub, hash);
      const revoked = deps.revokeSessions ? await deps.revokeAccount(target.sub) : 0;
      log.info({ sub: target.sub, revoked, migrated: Boolean(target.account) && target.created, store: !target.account }, 'password reset');
      deps.audit?.record({ type: 'password.reset', subject: target.sub, detail: { sessionsEnded: revoked } });
      if (target.email) await deps.mail.send('password-changed', target.email, { signedOut: deps.revokeSessions });
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
