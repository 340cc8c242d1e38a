import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identifier } from '../../src/accounts/identifier.ts';
import type { AccountLibrary } from '../../src/accounts/library.ts';
import { connectionSchema } from '../../src/config/schema.ts';
import { createClaimsCache } from '../../src/connection/claims-cache.ts';
import { notImplementedMessage, type Connection } from '../../src/connection/connection.ts';
import type { LazyMigration } from '../../src/connection/lazy-migration.ts';
import type { ScriptRunner } from '../../src/connection/scripts.ts';
import type { ConnectionSettings } from '../../src/connection/settings.ts';
import type { FailureFloor, SignInPath } from '../../src/connection/timing.ts';
import { createLogger } from '../../src/log.ts';
import type { Outcome } from '../../src/sandbox/index.ts';
import type { Throttle } from '../../src/security/throttle.ts';
import { createSignIn, MESSAGES, type SignInMode, type SignInResult } from '../../src/sign-in/index.ts';
import type { AccountRow, Profile } from '../../src/store/queries/accounts.ts';

/**
 * The sign-in's step list with fake parts given to createSignIn: Ferry's accounts, the legacy
 * database behind the `login` script, the throttle and the failure floor are small in-memory
 * stand-ins that record what was asked of them. The expected results are the ones
 * docs/architecture.md ("Where a sign-in goes") documents.
 */

const PREFIX = '';
const PASSWORDS = { local: 'local-password-1', legacy: 'legacy-password-1' };

type User = 'local' | 'legacy' | 'unknown';
const IDENTIFIERS: Record<User, string> = { local: 'lou@example.com', legacy: 'leg@example.com', unknown: 'nobody@example.com' };

function accountRow(fields: { id: string; sub: string; email: string; password: string; legacyId?: string; profile?: Profile }): AccountRow {
  const now = new Date();
  return {
    id: fields.id,
    sub: fields.sub,
    email: fields.email,
    phone: null,
    username: null,
    password_hash: fields.password,
    profile: fields.profile ?? { email: fields.email },
    legacy_id: fields.legacyId ?? null,
    migrated_at: fields.legacyId ? now : null,
    imported_at: null,
    blocked_at: null,
    created_at: now,
    updated_at: now,
  };
}

function setUp(mode: SignInMode, options: { legacyUp?: boolean; loginSource?: 'written' | 'default'; showScriptErrors?: boolean } = {}) {
  const calls = {
    passwordChecks: 0,
    legacy: [] as string[],
    pads: [] as (readonly SignInPath[])[],
    verdicts: [] as string[],
    refused: [] as string[],
    errors: [] as string[],
  };
  const state = { legacyUp: options.legacyUp ?? true, blockedIdentifiers: new Set<string>() };

  // Ferry's own accounts: one registered user (never in the legacy database).
  const local = new Map<string, AccountRow>([
    [IDENTIFIERS.local, accountRow({ id: 'a1', sub: 'local-sub-1', email: IDENTIFIERS.local, password: PASSWORDS.local })],
  ]);
  const accounts = {
    async findByIdentifier(identifier: Identifier) {
      return local.get(identifier.value);
    },
    async verifyLogin(identifier: Identifier, password: string, found?: AccountRow) {
      calls.passwordChecks++;
      const account = found ?? local.get(identifier.value);
      if (!account) return { ok: false, reason: 'unknown_user' };
      return account.password_hash === password ? { ok: true, account } : { ok: false, reason: 'wrong_password' };
    },
    async findBySub(sub: string) {
      return [...local.values()].find((account) => account.sub === sub);
    },
  } as unknown as AccountLibrary;

  // The legacy database as the seed's login script answers: profile, "User not exists!" or "Password is not valid!".
  const legacyUsers = new Map([[IDENTIFIERS.legacy, { id: '42', email: IDENTIFIERS.legacy, password: PASSWORDS.legacy }]]);
  const failed = (kind: 'script_error' | 'unavailable', message: string): Outcome<never> => ({ ok: false, kind, message, logs: [], durationMs: 1 });
  const runner = {
    async run(_connection: Connection, name: string, args: unknown[]) {
      calls.legacy.push(name);
      if (!state.legacyUp) return failed('unavailable', 'connect ECONNREFUSED');
      if (options.loginSource === 'default') return failed('script_error', notImplementedMessage('login'));
      const [query, password] = args as [{ email?: string }, string];
      const user = legacyUsers.get(query.email ?? '');
      if (!user) return failed('script_error', 'User not exists!');
      if (user.password !== password) return failed('script_error', 'Password is not valid!');
      return { ok: true, value: { id: user.id, email: user.email }, logs: [], durationMs: 1 };
    },
  } as unknown as ScriptRunner;

  const migration = {
    async migrate(profile: Profile, legacyId: string, identifier: Identifier, password: string) {
      const account = accountRow({ id: `m${legacyId}`, sub: `${PREFIX}${legacyId}`, email: identifier.value, password, legacyId, profile });
      local.set(identifier.value, account);
      return { ok: true, account, created: true };
    },
    async refuse(legacyId: string, field: string) {
      calls.refused.push(`${legacyId}:${field}`);
      return { ok: false, reason: 'conflict', field };
    },
  } as unknown as LazyMigration;

  const connection: Connection = {
    ...connectionSchema.parse({
      enabled: mode !== 'local',
      mode: mode === 'local' ? 'LAZY_MIGRATION' : mode,
      showScriptErrors: options.showScriptErrors ?? false,
    }),
    id: 'default',
  };
  const settings = { current: async () => connection } as unknown as ConnectionSettings;

  const throttle = {
    keys: (subject: object, ip: string) => [JSON.stringify(subject), ip],
    reserve: async () => ({ allowed: true, taken: [] }),
    failed: async () => void calls.verdicts.push('failed'),
    succeeded: async () => void calls.verdicts.push('succeeded'),
    release: async () => void calls.verdicts.push('released'),
  } as unknown as Throttle;
  const floor = {
    floor: () => 0,
    observe: () => {},
    pad: async (_started: number, paths: readonly SignInPath[]) => void calls.pads.push(paths),
  } as FailureFloor;
  const log = createLogger({ level: 'silent' });
  log.error = ((...args: unknown[]) => void calls.errors.push(String(args.at(-1)))) as typeof log.error;

  const claimsCache = createClaimsCache();
  const signIn = createSignIn({
    issuer: 'https://id.example.com',
    subjectPrefix: PREFIX,
    customClaims: [],
    policy: { minLength: 8 } as never,
    accounts,
    settings,
    runner,
    migration,
    claimsCache,
    floor,
    throttle,
    blocks: {
      blockedIdentifier: async (keys: readonly string[]) => keys.some((key) => state.blockedIdentifiers.has(key)),
      blockedSubject: async (sub: string) => state.blockedIdentifiers.has(`sub:${sub}`),
    },
    blockedMessage: 'This account is blocked.',
    log,
  });
  return { signIn, calls, state, local, claimsCache, connection };
}

/** What a sign-in gives, by the rules in docs/architecture.md. */
function documented(mode: SignInMode, user: User, right: boolean, legacyUp: boolean): { result: Partial<SignInResult>; asksLegacy: boolean } {
  const refused = (path: 'local' | 'legacy') => ({ ok: false, reason: 'invalid_credentials', message: MESSAGES.invalidCredentials, path }) as const;
  const unavailable = { ok: false, reason: 'unavailable', message: MESSAGES.unavailable, path: 'legacy' } as const;
  if (mode === 'local') {
    // Only Ferry's accounts: the legacy database is never asked.
    return { result: user === 'local' && right ? { ok: true, sub: 'local-sub-1', path: 'local' } : refused('local'), asksLegacy: false };
  }
  if (mode === 'LAZY_MIGRATION' && user === 'local') {
    // A local account decides; a refused never-migrated one is checked for capture, and the refusal stands.
    return { result: right ? { ok: true, sub: 'local-sub-1', path: 'local' } : refused('local'), asksLegacy: !right };
  }
  // The legacy script decides (lazy migration without a local account, and every custom-store sign-in).
  if (!legacyUp) return { result: unavailable, asksLegacy: true };
  return { result: user === 'legacy' && right ? { ok: true, sub: `${PREFIX}42`, path: 'legacy' } : refused('legacy'), asksLegacy: true };
}

const PATHS: Record<SignInMode, SignInPath[]> = { local: ['local'], LAZY_MIGRATION: ['local', 'legacy'], CUSTOM_USER_STORE: ['legacy'] };

describe('the sign-in step list', () => {
  for (const mode of ['local', 'LAZY_MIGRATION', 'CUSTOM_USER_STORE'] as const) {
    for (const user of ['local', 'legacy', 'unknown'] as const) {
      for (const right of [true, false]) {
        for (const legacyUp of [true, false]) {
          const name = `${mode}: ${user} user, ${right ? 'right' : 'wrong'} password, legacy ${legacyUp ? 'up' : 'down'}`;
          it(name, async () => {
            const { signIn, calls } = setUp(mode, { legacyUp });
            const password = right ? (user === 'local' ? PASSWORDS.local : PASSWORDS.legacy) : 'wrong-password-1';
            const result = await signIn.signIn(IDENTIFIERS[user], password, { ip: '192.0.2.1' });
            const expected = documented(mode, user, right, legacyUp);
            assert.deepEqual(result, expected.result);
            assert.equal(calls.legacy.includes('login'), expected.asksLegacy, 'whether the legacy login script ran');
            const verdict = result.ok ? 'succeeded' : result.reason === 'invalid_credentials' ? 'failed' : 'released';
            assert.deepEqual(calls.verdicts, [verdict], 'the throttle counts a wrong password, forgives a right one, and ignores no verdict');
            assert.deepEqual(calls.pads, result.ok || result.reason !== 'invalid_credentials' ? [] : [PATHS[mode]], 'only a refusal is padded, to its mode');
          });
        }
      }
    }
  }

  it('lazy migration: a migrated user signs in locally next time, even with the legacy database down', async () => {
    const { signIn, calls, state, local } = setUp('LAZY_MIGRATION');
    assert.deepEqual(await signIn.signIn(IDENTIFIERS.legacy, PASSWORDS.legacy, { ip: '192.0.2.1' }), { ok: true, sub: '42', path: 'legacy' });
    assert.equal(local.get(IDENTIFIERS.legacy)?.legacy_id, '42', 'migrated');
    state.legacyUp = false;
    calls.legacy.length = 0;
    assert.deepEqual(await signIn.signIn(IDENTIFIERS.legacy, PASSWORDS.legacy, { ip: '192.0.2.1' }), { ok: true, sub: '42', path: 'local' });
    const wrong = await signIn.signIn(IDENTIFIERS.legacy, 'wrong-password-1', { ip: '192.0.2.1' });
    assert.equal(wrong.ok ? 'ok' : wrong.reason, 'invalid_credentials');
    assert.deepEqual(calls.legacy, [], 'the legacy database is never asked about a migrated user');
  });

  it('lazy migration: a registered account holding a legacy user’s identifier does not capture the migration', async () => {
    const { signIn, calls, local } = setUp('LAZY_MIGRATION');
    local.set(IDENTIFIERS.legacy, accountRow({ id: 'a2', sub: 'squatter', email: IDENTIFIERS.legacy, password: 'squatter-password' }));
    const result = await signIn.signIn(IDENTIFIERS.legacy, PASSWORDS.legacy, { ip: '192.0.2.1' });
    assert.deepEqual(result, { ok: false, reason: 'unavailable', message: MESSAGES.conflict });
    assert.deepEqual(calls.refused, ['42:email'], 'the conflict is recorded');
  });

  it('custom store: a signed-in user’s profile answers the claims from the cache', async () => {
    const { signIn, calls, claimsCache } = setUp('CUSTOM_USER_STORE');
    await signIn.signIn(IDENTIFIERS.legacy, PASSWORDS.legacy, { ip: '192.0.2.1' });
    assert.deepEqual(claimsCache.get('42'), { id: '42', email: IDENTIFIERS.legacy });
    assert.equal((await signIn.findClaims('42'))?.email, IDENTIFIERS.legacy);
    assert.deepEqual(calls.legacy, ['login'], 'no getUser: the claims came from the cache');
  });

  it("shows the script's words only with showScriptErrors, and the default script's sentence always", async () => {
    const shown = setUp('CUSTOM_USER_STORE', { showScriptErrors: true });
    const unknown = await shown.signIn.signIn(IDENTIFIERS.unknown, 'wrong-password-1', { ip: '192.0.2.1' });
    assert.equal(!unknown.ok && unknown.message, 'User not exists!');
    const unwritten = setUp('LAZY_MIGRATION', { loginSource: 'default' });
    const result = await unwritten.signIn.signIn(IDENTIFIERS.legacy, PASSWORDS.legacy, { ip: '192.0.2.1' });
    assert.deepEqual(result, { ok: false, reason: 'unavailable', message: notImplementedMessage('login'), path: 'legacy' });
    assert.deepEqual(unwritten.calls.errors, [], 'an unwritten script is not an error to alert on');
  });

  it('refuses a blocked user before any password is checked, with one sentence whatever the password, padded as a wrong one', async () => {
    const local = setUp('LAZY_MIGRATION');
    local.local.set(IDENTIFIERS.local, { ...local.local.get(IDENTIFIERS.local)!, blocked_at: new Date() });
    const custom = setUp('CUSTOM_USER_STORE');
    custom.state.blockedIdentifiers.add(`email:${IDENTIFIERS.legacy}`);
    for (const [{ signIn, calls }, identifier, right, mode] of [
      [local, IDENTIFIERS.local, PASSWORDS.local, 'LAZY_MIGRATION'],
      [custom, IDENTIFIERS.legacy, PASSWORDS.legacy, 'CUSTOM_USER_STORE'],
    ] as const) {
      for (const password of [right, 'wrong-password-1']) {
        const result = await signIn.signIn(identifier, password, { ip: '192.0.2.1' });
        assert.deepEqual(result, { ok: false, reason: 'blocked', message: 'This account is blocked.' }, `${mode}, ${password}`);
      }
      assert.deepEqual([calls.passwordChecks, calls.legacy, calls.verdicts], [0, [], []], `${mode}: no password checked, nothing throttled`);
      assert.deepEqual(calls.pads, [PATHS[mode], PATHS[mode]], 'as slow as a wrong password');
    }
    const moved = setUp('CUSTOM_USER_STORE');
    moved.state.blockedIdentifiers.add('sub:42');
    const refused = await moved.signIn.signIn(IDENTIFIERS.legacy, PASSWORDS.legacy, { ip: '192.0.2.1' });
    assert.deepEqual(
      refused,
      { ok: false, reason: 'blocked', message: 'This account is blocked.', path: 'legacy' },
      'a blocked subject under an identifier not recorded',
    );
    assert.deepEqual(moved.calls.legacy, ['login'], 'refused once the login script verified it');
    const other = await custom.signIn.signIn(IDENTIFIERS.unknown, 'wrong-password-1', { ip: '192.0.2.1' });
    assert.equal(other.ok ? 'ok' : other.reason, 'invalid_credentials', 'another identifier goes on as before');
  });

  it('ends a malformed identifier or an empty password before the connection or the throttle is asked', async () => {
    const { signIn, calls } = setUp('LAZY_MIGRATION');
    for (const [identifier, password] of [
      ['not an identifier !', 'some-password'],
      [IDENTIFIERS.legacy, ''],
    ]) {
      assert.deepEqual(await signIn.signIn(identifier!, password!, { ip: '192.0.2.1' }), {
        ok: false,
        reason: 'invalid_identifier',
        message: MESSAGES.invalidIdentifier,
      });
    }
    assert.deepEqual([calls.legacy, calls.verdicts], [[], []]);
  });
});
