import type { Identifier } from '../accounts/identifier.ts';
import type { AccountLibrary, Registration } from '../accounts/library.ts';
import type { Logger } from '../log.ts';
import type { AccountRow } from '../store/queries/accounts.ts';

/** What Ferry knows of the request a sign-in comes from (passed to scripts as `context.request`). */
export interface RequestContext {
  ip: string;
  clientId?: string | undefined;
  clientName?: string | undefined;
  body?: Record<string, string> | undefined;
}

/** `path` says who checked the password: Ferry's own accounts or the legacy database. */
export type SignInResult =
  | { ok: true; sub: string; path?: 'local' | 'legacy' }
  | {
      ok: false;
      reason: 'invalid_credentials' | 'invalid_identifier' | 'unavailable' | 'conflict' | 'throttled';
      message: string;
      path?: 'local' | 'legacy';
      retryAfterSeconds?: number;
    };

/** The sentences people see. Unknown user and wrong password share one on purpose. */
export const MESSAGES = {
  invalidCredentials: 'The sign-in details you entered are not correct. Check them and try again.',
  invalidIdentifier: 'Enter your email address, phone number or username.',
  unavailable: 'Sign-in is temporarily unavailable. Please try again in a few minutes.',
  conflict: 'This account cannot be signed in to yet. Please contact support.',
} as const;

export interface SignInService {
  signIn(identifier: string, password: string, context: RequestContext): Promise<SignInResult>;
  /** Creates an account and returns its subject; throws a FerryError the page can show. */
  register(registration: Registration, context: RequestContext): Promise<{ sub: string }>;
  /** The claims of a subject for ID tokens and userinfo. */
  findClaims(sub: string): Promise<Record<string, unknown> | undefined>;
}

export async function localSignIn(accounts: AccountLibrary, identifier: Identifier, password: string, log: Logger, found?: AccountRow): Promise<SignInResult> {
  const result = await accounts.verifyLogin(identifier, password, found);
  if (result.ok) return { ok: true, sub: result.account.sub, path: 'local' };
  log.info({ kind: identifier.kind, reason: result.reason }, 'local sign-in refused');
  return { ok: false, reason: 'invalid_credentials', message: MESSAGES.invalidCredentials, path: 'local' };
}
