import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toBridgeError } from '../../src/sandbox/bridge/errors.ts';
import { holdsSecret, MASK, maskSecrets, secretValues } from '../../src/sandbox/secrets.ts';

describe('the one masking rule', () => {
  it('replaces URL passwords and every secret of three or more characters with the mask, the longest first', () => {
    assert.equal(MASK, '********');
    const secrets = ['hunter2', 'hunter2-and-more', 'pin', 'ab'];
    assert.equal(
      maskSecrets('tried hunter2-and-more then hunter2 and pin, not ab, at mysql://app:s3cret@db:3306/x', secrets),
      'tried ******** then ******** and ********, not ab, at mysql://app:********@db:3306/x',
    );
  });

  it("masks a connection's secrets in every form a driver prints them", () => {
    const env = { DB_CONNECTION_URI: 'postgres://app:p%40ss-word@legacy:5432/app', API_TOKEN: 'tok-123', DB_HOST: 'legacy' };
    const text = 'token tok-123, decoded p@ss-word, host legacy';
    assert.equal(maskSecrets(text, secretValues(env)), 'token ********, decoded ********, host legacy');
    assert.ok(holdsSecret(Buffer.from('x tok-123 y'), secretValues(env)));
    assert.ok(!holdsSecret('ab', ['ab']), 'too short to mask is too short to find');
  });

  it('is the rule the sandbox applies to driver errors crossing into the isolate', () => {
    const error = toBridgeError(new Error('password authentication failed for "app" using db-pass-1 at postgres://app:db-pass-1@h/x'), ['db-pass-1']);
    assert.equal(error.message, 'password authentication failed for "app" using ******** at postgres://app:********@h/x');
  });
});
