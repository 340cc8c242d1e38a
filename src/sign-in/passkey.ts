import type { Throttle } from '../security/throttle.ts';
import type { SignInParts } from './parts.ts';
import { MESSAGES, type RequestContext, type SignInResult } from './service.ts';

/** No attempt reserved: a passkey cannot be guessed, so its sign-in is counted without taking one. */
const NOTHING_RESERVED: Parameters<Throttle['succeeded']>[0] = { allowed: true, taken: [] };

/**
 * A passwordless sign-in, after a passkey's assertion was verified for `sub`: the same in every
 * mode, since the passkey is Ferry's and keyed by subject. A blocked user is refused (by the
 * subject, which a block records for local and custom-store users alike), and so is a subject
 * that has no account any more (its claims are looked up as the ID token's would be: the account,
 * or the custom user store's `getUser`). A success is counted (last sign-in, count), recorded in
 * the audit log and in `ferry_logins_total` like a password's, with path `passkey`.
 */
export function createPasskeySignIn(parts: SignInParts, findClaims: (sub: string) => Promise<Record<string, unknown> | undefined>) {
  return async function signInWithPasskey(sub: string, request: RequestContext): Promise<SignInResult> {
    let result: SignInResult;
    if (await parts.blocks.blockedSubject(sub)) result = { ok: false, reason: 'blocked', message: parts.blockedMessage };
    else if (!(await findClaims(sub))) result = { ok: false, reason: 'invalid_credentials', message: MESSAGES.invalidCredentials };
    else result = { ok: true, sub };
    if (result.ok) await parts.throttle.succeeded(NOTHING_RESERVED, sub);
    parts.metrics?.logins.inc({ outcome: result.ok ? 'success' : result.reason, path: 'passkey' });
    parts.audit?.record({
      type: result.ok ? 'sign-in.succeeded' : 'sign-in.failed',
      subject: sub,
      ip: request.ip,
      clientId: request.clientId,
      outcome: result.ok ? 'success' : result.reason,
      detail: { path: 'passkey' },
    });
    return result;
  };
}
