import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import { toBoolean } from '../oidc/claims.ts';
import type { AccountQueries, AccountRow } from '../store/queries/accounts.ts';
import type { EmailVerificationQueries } from '../store/queries/email-verifications.ts';

export type SendResult = 'sent' | 'already_verified' | 'no_account' | 'throttled';

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

  return {
    /** The account behind a subject, if Ferry stores it. */
    account: (sub: string) => deps.accounts.findBy('sub', sub),

    /** Mails a verification link to the account's address. */
    async send(sub: string): Promise<SendResult> {
      const account = await deps.accounts.findBy('sub', sub);
      if (!account?.email) return 'no_account';
      if (!emailUnverified(account)) return 'already_verified';
      if ((await queries.sentSince(sub, 60)) >= deps.perHour) return 'throttled';
      const token = randomBytes(32).toString('base64url');
      await queries.insert(hashOf(token), { sub, email: account.email }, deps.linkMinutes);
      const link = `${deps.issuer}/account/verify?${new URLSearchParams({ token })}`;
      await deps.mail.send('verify-email', account.email, { link, hours: Math.round(deps.linkMinutes / 60) });
      log.info({ sub }, 'email verification link sent');
      return 'sent';
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

    /** Uses a link; false when it is unknown, used, expired, or its address is no longer the account's. */
    async verify(token: string): Promise<boolean> {
      const link = await queries.consume(hashOf(token));
      if (!link) return false;
      const account = await deps.accounts.findBy('sub', link.sub);
      if (!account || account.email !== link.email) return false;
      await deps.accounts.update(account.id, { profile: { ...account.profile, emailVerified: true } });
      log.info({ sub: account.sub }, 'email address verified');
      return true;
    },

    prune: () => queries.prune(),
  };
}

export type EmailVerification = ReturnType<typeof createEmailVerification>;
