import type { Identifier } from '../accounts/identifier.ts';
import type { Connection } from '../connection/connection.ts';
import type { SignInPath } from '../connection/timing.ts';
import type { AccountRow, Profile } from '../store/queries/accounts.ts';
import type { RequestContext, SignInResult } from './service.ts';

/**
 * One sign-in as it moves through the steps. The form's fields are fixed; each step fills in what
 * it learned (the identifier, the connection, the local account, a user the legacy script
 * verified) or, to end the attempt, its `result`.
 */
export interface Attempt {
  readonly raw: string;
  readonly password: string;
  readonly request: RequestContext;
  /** performance.now() when the attempt began: failures are padded, successes timed, from here. */
  readonly startedAt: number;
  identifier?: Identifier;
  connection?: Connection;
  mode?: Mode;
  /** The local account that decides the sign-in, found before the password is looked at (not in CUSTOM_USER_STORE). */
  local?: AccountRow | undefined;
  /** A user the legacy `login` script just verified, with the bcrypt hash it was checked against if that may be adopted. */
  verified?: { profile: Profile; legacyId: string; adoptedHash: string | undefined };
  result?: SignInResult;
}

/**
 * A step in the style of node-oidc-provider's actions (Koa middleware): it ends the attempt by
 * setting `result` and not calling `next`, or passes it on; a step that must see the outcome
 * (throttle, timing, metrics) awaits `next()` and then looks at `result`.
 */
export type Step = (attempt: Attempt, next: () => Promise<void>) => Promise<void>;

/** What a mode contributes: its steps, where its passwords are checked, and whether local accounts decide. */
export interface Mode {
  steps: readonly Step[];
  /** Where a sign-in may go in this mode: a failure is held to the slowest of them (steps/pad-failure.ts). */
  paths: readonly SignInPath[];
  /** Whether a local account found by the identifier decides the sign-in (and is the throttle's key). */
  localAccounts: boolean;
}

/** Runs `steps` in order over one attempt, each given the rest as `next` (koa-compose without the context). */
export async function runSteps(steps: readonly Step[], attempt: Attempt): Promise<void> {
  const at = async (index: number): Promise<void> => {
    const step = steps[index];
    if (step) await step(attempt, () => at(index + 1));
  };
  await at(0);
}
