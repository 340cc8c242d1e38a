import { type Attempt, type Mode, runSteps, type Step } from './attempt.ts';
import { createClaimsLookup } from './claims.ts';
import { customStoreMode } from './modes/custom-store.ts';
import { lazyMigrationMode } from './modes/lazy-migration.ts';
import { localMode } from './modes/local.ts';
import type { SignInMode, SignInParts } from './parts.ts';
import { createPasskeySignIn } from './passkey.ts';
import { createPasswordChange, createPasswordCheck } from './password-change.ts';
import { createRegistration } from './registration.ts';
import type { SignInService } from './service.ts';
import { auditOutcome } from './steps/audit-outcome.ts';
import { countOutcome } from './steps/count-outcome.ts';
import { findLocalAccount, loadConnection } from './steps/load-connection.ts';
import { padFailure, timeSuccess } from './steps/pad-failure.ts';
import { parseIdentifier } from './steps/parse-identifier.ts';
import { refuseBlocked } from './steps/refuse-blocked.ts';
import { runMode } from './steps/run-mode.ts';
import { throttle } from './steps/throttle.ts';

export type { SignInMode, SignInParts } from './parts.ts';
export { MESSAGES, type RequestContext, type SignInResult, type SignInService } from './service.ts';

/**
 * Where a sign-in goes: the steps below, in order (docs/architecture.md, "Where a sign-in goes").
 * A step ends the attempt or passes it on; the ones that must see the outcome (counting, padding,
 * the throttle's verdict, timing) come before the steps whose outcome they see. A new step — a
 * second factor, a forced reset — is a new file and one line here or in its mode's list.
 */
export function createSignIn(parts: SignInParts): SignInService & {
  changePassword(sub: string, current: string, next: string): Promise<void>;
  checkPassword(sub: string, current: string): Promise<void>;
} {
  const modes: Record<SignInMode, Mode> = {
    local: localMode(parts),
    LAZY_MIGRATION: lazyMigrationMode(parts),
    CUSTOM_USER_STORE: customStoreMode(parts),
  };
  const steps: readonly Step[] = [
    countOutcome(parts),
    auditOutcome(parts),
    parseIdentifier,
    loadConnection(parts, modes),
    findLocalAccount(parts),
    padFailure(parts),
    refuseBlocked(parts),
    throttle(parts),
    timeSuccess(parts),
    runMode,
  ];

  const findClaims = createClaimsLookup(parts);

  return {
    async signIn(raw, password, request) {
      const attempt: Attempt = { raw, password, request, startedAt: performance.now() };
      await runSteps(steps, attempt);
      if (!attempt.result) throw new Error('The sign-in steps ended without a result.');
      return attempt.result;
    },
    register: createRegistration(parts),
    signInWithPasskey: createPasskeySignIn(parts, findClaims),
    findClaims,
    changePassword: createPasswordChange(parts),
    checkPassword: createPasswordCheck(parts),
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
