import type { Registration } from '../accounts/library.ts';

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
      reason: 'invalid_credentials' | 'invalid_identifier' | 'unavailable' | 'conflict' | 'throttled' | 'blocked';
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

/** The status the hosted login page answers a refused sign-in with. */
export const STATUS_OF_REASON = {
  invalid_credentials: 401,
  invalid_identifier: 400,
  unavailable: 503,
  conflict: 403,
  throttled: 429,
  // As a wrong password: with the wrong-credentials sentence configured, nothing tells a block apart.
  blocked: 401,
} as const satisfies Record<Extract<SignInResult, { ok: false }>['reason'], number>;

export interface SignInService {
  signIn(identifier: string, password: string, context: RequestContext): Promise<SignInResult>;
  /** Creates an account and returns its subject; throws a FerryError the page can show. */
  register(registration: Registration, context: RequestContext): Promise<{ sub: string }>;
  /** A passwordless sign-in of `sub`, whose passkey was verified: refused if blocked or gone, counted like a password's. */
  signInWithPasskey(sub: string, context: RequestContext): Promise<SignInResult>;
  /** The claims of a subject for ID tokens and userinfo. */
  findClaims(sub: string): Promise<Record<string, unknown> | undefined>;
}
