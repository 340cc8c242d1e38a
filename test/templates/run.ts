import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../src/log.ts';
import { createSandbox, type Outcome } from '../../src/sandbox/index.ts';

export const TEMPLATES_DIR = join(import.meta.dirname, '..', '..', 'hooks', 'templates');

export const SCRIPT_NAMES = ['login', 'getUser', 'searchUser', 'createUser', 'updateUser', 'deleteUser', 'listUsers', 'validatePassword'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

export function templateSource(template: string, name: ScriptName): string {
  return readFileSync(join(TEMPLATES_DIR, template, `${name}.js`), 'utf8');
}

/** A real sandbox running one template folder's scripts, as Ferry would. */
export function templateRunner(template: string) {
  const sandbox = createSandbox({ log: createLogger({ level: 'silent' }) });
  return {
    run(name: ScriptName, args: unknown[], env: Record<string, string>): Promise<Outcome> {
      return sandbox.run({ name, source: templateSource(template, name), args, env });
    },
    close() {
      sandbox.close();
    },
  };
}

/** The value of a successful outcome; fails the test with the script's message otherwise. */
export function valueOf<T = Record<string, unknown>>(outcome: Outcome): T {
  assert.ok(outcome.ok, outcome.ok ? '' : `expected success, got ${outcome.kind}: ${outcome.message}`);
  return outcome.value as T;
}

export function assertScriptError(outcome: Outcome, message: string): void {
  assert.equal(outcome.ok, false, `expected the script to throw "${message}", it finished with ${JSON.stringify(outcome.ok && outcome.value)}`);
  if (outcome.ok) return;
  assert.equal(outcome.kind, 'script_error');
  assert.equal(outcome.message, message);
}

/** The profile fields every template returns (product.md, "Profiles and claims"). */
export const PROFILE_FIELDS = [
  'id',
  'email',
  'phone',
  'username',
  'photo',
  'nickname',
  'name',
  'token',
  'emailVerified',
  'phoneVerified',
  'loginsCount',
  'lastIp',
  'gender',
  'address',
  'company',
  'birthdate',
  'website',
  'updatedAt',
];

/** A profile has exactly the documented fields, and nothing password-like. */
export function assertProfileShape(profile: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(profile).sort(), [...PROFILE_FIELDS].sort());
  assert.ok(!JSON.stringify(profile).includes('$2b$'), 'a profile must never carry a password hash');
}

/** Polls `check` every `intervalMs` until it is true; fails after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, { intervalMs = 20, timeoutMs = 5000 } = {}): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
