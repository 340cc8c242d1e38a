import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import { toBoolean } from '../oidc/claims.ts';
import { type AccountQueries, type AccountRow, isUniqueViolation } from '../store/queries/accounts.ts';
import type { EmailVerificationQueries } from '../store/queries/email-verifications.ts';

export type SendResult = 'sent' | 'already_verified' | 'no_account' | 'throttled';
export type ChangeRequest = 'sent' | 'same' | 'no_account' | 'throttled';
/** What using a link did: verified the address, made a new address the account's, or nothing (`taken`: another account has it). */
export type VerifyResult = 'verified' | 'changed' | 'taken' | 'invalid';

const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** Whether an account has an email address that was never verified (a legacy `emailVerified` counts). */
export function emailUnverified(account: AccountRow): boolean {
  return Boolean(account.email) && toBoolean(account.profile.emailVerified) !== true;
}

/**
 * Email verification of Ferry's own accounts (registered, migrated or imported). A link carries a
 * 256-bit random token of which only the SHA-256 is stored; it works once, for `linkMinutes`, and
 * only while the account still has the address it was sent to. Using it sets the profile's
 * `emailVerified`, which becomes the `email_verified` claim. Accounts of a custom user store have
 * no row here: their store says whether the address is verified.
 */
export function createEmailVerification(deps: {
  issuer: string;
  linkMinutes: number;
  /** Links one account may be sent per hour (registration's and resends together). */
  perHour: number;
  accounts: Pick<AccountQueries, 'findBy' | 'update'>;
  queries: EmailVerificationQueries;
  mail: { send(template: string, to: string, data: Record<string, unknown>): Promise<unknown> };
  log: Logger;
}) {
  const { queries, log } = deps;

  const mailLink = async (sub: string, email: string, change: boolean): Promise<'sent' | 'throttled'> => {
    if ((await queries.sentSince(sub, 60)) >= deps.perHour) return 'throttled';
    const token = randomBytes(32).toString('base64url');
    await queries.insert(hashOf(token), { sub, email, change }, deps.linkMinutes);
    const link = `${deps.issuer}/account/verify?${new URLSearchParams({ token })}`;
    await deps.mail.send(change ? 'change-email' : 'verify-email', email, { link, hours: Math.round(deps.linkMinutes / 60) });
    log.info({ sub, change }, 'email verification link sent');
    return 'sent';
  };

  return {
    /** The account behind a subject, if Ferry stores it. */
    account: (sub: string) => deps.accounts.findBy('sub', sub),

    /** Mails a verification link to the account's address. */
    async send(sub: string): Promise<SendResult> {
      const account = await deps.accounts.findBy('sub', sub);
      if (!account?.email) return 'no_account';
      if (!emailUnverified(account)) return 'already_verified';
      return mailLink(sub, account.email, false);
    },

    /**
     * Mails a link to a new address that, when used, makes it the account's verified address; the
     * account keeps its address until then. The answer does not say whether another account has
     * the new address: only its mailbox learns that, when the link is used.
     */
    async requestChange(sub: string, email: string): Promise<ChangeRequest> {
      const account = await deps.accounts.findBy('sub', sub);
      if (!account) return 'no_account';
      if (account.email === email) return 'same';
      return mailLink(sub, email, true);
    },

    /** Tells the owner of an address that someone tried to register it again (instead of saying so on the page). */
    async tellAlreadyRegistered(email: string): Promise<void> {
      await deps.mail.send('account-exists', email, {});
      log.info('registration with an address that has an account: mailed its owner');
    },

    /** Whether a link still works (the page shows its button or says it does not). */
    async check(token: string): Promise<boolean> {
      return (await queries.peek(hashOf(token))) !== undefined;
    },

    /**
     * Uses a link. A verification link works while the account still has its address; a change
     * link makes its address the account's (verified) and tells the old address so.
     */
    async verify(token: string): Promise<VerifyResult> {
      const link = await queries.consume(hashOf(token));
      if (!link) return 'invalid';
      const account = await deps.accounts.findBy('sub', link.sub);
      if (!account) return 'invalid';
      const profile = { ...account.profile, emailVerified: true };
      if (!link.change) {
        if (account.email !== link.email) return 'invalid';
        await deps.accounts.update(account.id, { profile });
        log.info({ sub: account.sub }, 'email address verified');
        return 'verified';
      }
      try {
        // The profile's `email` is what the email claim says: it changes with the column.
        await deps.accounts.update(account.id, { email: link.email, profile: { ...profile, email: link.email } });
      } catch (error) {
        if (isUniqueViolation(error)) return 'taken';
        throw error;
      }
      await queries.retire(account.sub);
      log.info({ sub: account.sub }, 'email address changed');
      if (account.email && account.email !== link.email) await deps.mail.send('email-changed', account.email, {});
      return 'changed';
    },

    prune: () => queries.prune(),
  };
}

export type EmailVerification = ReturnType<typeof createEmailVerification>;
