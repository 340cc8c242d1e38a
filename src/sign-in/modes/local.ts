import type { Identifier } from '../../accounts/identifier.ts';
import type { AccountLibrary } from '../../accounts/library.ts';
import type { Logger } from '../../log.ts';
import type { AccountRow } from '../../store/queries/accounts.ts';
import type { Mode, Step } from '../attempt.ts';
import type { SignInParts } from '../parts.ts';
import { MESSAGES, type SignInResult } from '../service.ts';

/** Checks a password against Ferry's own account (a decoy hash when there is none, see accounts/library.ts). */
export async function localSignIn(accounts: AccountLibrary, identifier: Identifier, password: string, log: Logger, found?: AccountRow): Promise<SignInResult> {
  const result = await accounts.verifyLogin(identifier, password, found);
  if (result.ok) return { ok: true, sub: result.account.sub, path: 'local' };
  log.info({ kind: identifier.kind, reason: result.reason }, 'local sign-in refused');
  return { ok: false, reason: 'invalid_credentials', message: MESSAGES.invalidCredentials, path: 'local' };
}

export function checkLocalPassword(parts: Pick<SignInParts, 'accounts' | 'log'>): Step {
  return async (attempt) => {
    attempt.result = await localSignIn(parts.accounts, attempt.identifier!, attempt.password, parts.log, attempt.local);
  };
}

/** No enabled connection: only Ferry's own accounts sign in. */
export function localMode(parts: Pick<SignInParts, 'accounts' | 'log'>): Mode {
  return { steps: [checkLocalPassword(parts)], paths: ['local'], localAccounts: true };
}
