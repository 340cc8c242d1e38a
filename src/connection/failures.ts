import type { FailureKind, Outcome } from '../sandbox/index.ts';
import { notImplementedMessage, type ScriptName } from './connection.ts';

/**
 * A failed script as Ferry reads it: the sandbox's kind, with a `script_error` refined by what the
 * script said. `not_implemented` is the default script's own sentence (Ferry wrote it, so it is
 * compared exactly); `user_exists` and `user_not_found` come from the script's message.
 */
export type Kind = Exclude<FailureKind, 'script_error'> | 'script_error' | 'not_implemented' | 'user_exists' | 'user_not_found';

/** What each part of Ferry does with one kind. */
export interface FailureRule {
  /**
   * The login script at sign-in: the person's details were refused (`invalid_credentials`, the
   * script's words shown only with showScriptErrors) or sign-in is unavailable (`unavailable`, with
   * Ferry's sentence, or the default script's own when it was never written).
   */
  signIn: 'refused' | 'unavailable' | 'not_implemented';
  /** Logged as an error at sign-in: the script or the sandbox is broken (a refusal or a legacy outage is not). */
  alert: boolean;
  /** createUser at registration: the identifier is taken (409), the script refused (400), or unavailable (503). */
  registration: 'exists' | 'refused' | 'unavailable';
  /** The admin API's user operations in CUSTOM_USER_STORE (connection/directory.ts). */
  admin: { status: 400 | 404 | 409 | 503; code: string };
}

const SCRIPT_FAILED = { status: 400, code: 'script_failed' } as const;
const LEGACY_DOWN = { status: 503, code: 'unavailable' } as const;

/**
 * The one table. Elsewhere (getUser at registration and for claims, validatePassword and
 * updateUser at a password change) any failure is "unavailable": those calls have no answer a
 * failure could stand for, so they do not read the table.
 */
export const FAILURES = {
  script_error: { signIn: 'refused', alert: false, registration: 'refused', admin: SCRIPT_FAILED },
  not_implemented: { signIn: 'not_implemented', alert: false, registration: 'refused', admin: SCRIPT_FAILED },
  user_exists: { signIn: 'refused', alert: false, registration: 'exists', admin: { status: 409, code: 'user_exists' } },
  // createUser has no "not found" outcome; registration reads one as a refusal.
  user_not_found: { signIn: 'refused', alert: false, registration: 'refused', admin: { status: 404, code: 'not_found' } },
  unavailable: { signIn: 'unavailable', alert: false, registration: 'unavailable', admin: LEGACY_DOWN },
  timeout: { signIn: 'unavailable', alert: false, registration: 'unavailable', admin: LEGACY_DOWN },
  memory: { signIn: 'unavailable', alert: true, registration: 'unavailable', admin: SCRIPT_FAILED },
  syntax: { signIn: 'unavailable', alert: true, registration: 'unavailable', admin: SCRIPT_FAILED },
  invalid_result: { signIn: 'unavailable', alert: true, registration: 'unavailable', admin: SCRIPT_FAILED },
  limit: { signIn: 'unavailable', alert: true, registration: 'unavailable', admin: SCRIPT_FAILED },
  sandbox_error: { signIn: 'unavailable', alert: true, registration: 'unavailable', admin: SCRIPT_FAILED },
} as const satisfies Record<Kind, FailureRule>;

/** The kind of a failed outcome of `script`, and what to do with it. */
export function failureOf(outcome: Extract<Outcome, { ok: false }>, script: ScriptName): { kind: Kind; rule: FailureRule } {
  const kind = kindOf(outcome, script);
  return { kind, rule: FAILURES[kind] };
}

function kindOf(outcome: Extract<Outcome, { ok: false }>, script: ScriptName): Kind {
  if (outcome.kind !== 'script_error') return outcome.kind;
  if (outcome.message === notImplementedMessage(script)) return 'not_implemented';
  return whatTheScriptSaid(outcome.message) ?? 'script_error';
}

/**
 * The only place Ferry reads a script's words. The product contract (and GenAuth, whose scripts
 * run unchanged) gives createUser "throws if it exists" and deleteUser "throws if not found" with
 * no error code, only a message (the seed templates throw `User already exists!` and
 * `User not exists!`), so the message is all there is to go on. "not exist" is read before "exist".
 */
export function whatTheScriptSaid(message: string): 'user_exists' | 'user_not_found' | undefined {
  if (/not exist|not found/i.test(message)) return 'user_not_found';
  if (/exist/i.test(message)) return 'user_exists';
  return undefined;
}
