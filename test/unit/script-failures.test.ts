import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notImplementedMessage } from '../../src/connection/connection.ts';
import { FAILURES, failureOf, whatTheScriptSaid } from '../../src/connection/failures.ts';
import { FAILURE_KINDS, type FailureKind } from '../../src/sandbox/outcome.ts';

const failed = (kind: FailureKind, message = 'boom') => ({ ok: false as const, kind, message, logs: [], durationMs: 1 });

describe('the table of script failure kinds', () => {
  it('has a row for every kind the sandbox reports', () => {
    for (const kind of FAILURE_KINDS) assert.ok(Object.hasOwn(FAILURES, kind), kind);
  });

  it('reads the seed templates’ messages, and only at the one place that reads messages', () => {
    assert.equal(whatTheScriptSaid('User not exists!'), 'user_not_found');
    assert.equal(whatTheScriptSaid('Execute query failed: user not found'), 'user_not_found');
    assert.equal(whatTheScriptSaid('User already exists!'), 'user_exists');
    assert.equal(whatTheScriptSaid('Password is not valid!'), undefined);
    assert.equal(failureOf(failed('script_error', 'User already exists!'), 'createUser').kind, 'user_exists');
    assert.equal(failureOf(failed('timeout', 'User already exists!'), 'createUser').kind, 'timeout', 'only a script error is read');
    assert.equal(failureOf(failed('script_error', notImplementedMessage('login')), 'login').kind, 'not_implemented');
    assert.equal(failureOf(failed('script_error', notImplementedMessage('login')), 'getUser').kind, 'script_error', "another script's default sentence");
  });

  it('refuses the person on a script error, and says unavailable on anything else', () => {
    const signIn = (kind: FailureKind, message?: string) => failureOf(failed(kind, message), 'login').rule.signIn;
    assert.equal(signIn('script_error', 'Password is not valid!'), 'refused');
    assert.equal(signIn('script_error', 'User not exists!'), 'refused', 'an unknown user and a wrong password look the same');
    assert.equal(signIn('script_error', notImplementedMessage('login')), 'not_implemented');
    for (const kind of FAILURE_KINDS.filter((kind) => kind !== 'script_error')) assert.equal(signIn(kind), 'unavailable', kind);
  });

  it('alerts on a broken script or sandbox, not on a refusal or a legacy outage', () => {
    const alerting = FAILURE_KINDS.filter((kind) => failureOf(failed(kind), 'login').rule.alert);
    assert.deepEqual(alerting.sort(), ['invalid_result', 'limit', 'memory', 'sandbox_error', 'syntax']);
  });

  it('gives the admin API 503 for an outage, 404 and 409 for what the script said, 400 otherwise', () => {
    const admin = (kind: FailureKind, message?: string) => failureOf(failed(kind, message), 'deleteUser').rule.admin;
    assert.deepEqual(admin('unavailable'), { status: 503, code: 'unavailable' });
    assert.deepEqual(admin('timeout'), { status: 503, code: 'unavailable' });
    assert.deepEqual(admin('script_error', 'User not exists!'), { status: 404, code: 'not_found' });
    assert.deepEqual(admin('script_error', 'User already exists!'), { status: 409, code: 'user_exists' });
    for (const kind of ['script_error', 'syntax', 'memory', 'invalid_result', 'limit', 'sandbox_error'] as const)
      assert.deepEqual(admin(kind), { status: 400, code: 'script_failed' }, kind);
  });

  it('tells registration whether createUser found the identifier taken, refused, or could not answer', () => {
    const registration = (kind: FailureKind, message?: string) => failureOf(failed(kind, message), 'createUser').rule.registration;
    assert.equal(registration('script_error', 'User already exists!'), 'exists');
    assert.equal(registration('script_error', 'email is not allowed'), 'refused');
    assert.equal(registration('script_error', notImplementedMessage('createUser')), 'refused');
    assert.equal(registration('unavailable'), 'unavailable');
    assert.equal(registration('syntax'), 'unavailable');
  });
});
