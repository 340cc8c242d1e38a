import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import bcrypt from 'bcrypt';
import { createPasswordHasher } from '../../src/accounts/passwords.ts';

/** 72 bytes (bcrypt's limit) that two passwords share, then one character that differs. */
const PREFIX = 'correct horse battery staple '.repeat(3).slice(0, 72);

describe("Ferry's password hashing", () => {
  const hasher = createPasswordHasher();

  it('refuses a password longer than 72 bytes that differs from the right one only after byte 72', async () => {
    assert.equal(Buffer.byteLength(PREFIX), 72);
    const hash = await hasher.hash(`${PREFIX}A`);
    assert.equal(await hasher.verify(hash, `${PREFIX}A`), true);
    assert.equal(await hasher.verify(hash, `${PREFIX}B`), false);
    assert.equal(await hasher.verify(hash, PREFIX), false);
  });

  it('refuses it too when multi-byte characters fill the first 72 bytes', async () => {
    const prefix = 'ü'.repeat(36); // 72 bytes, 36 characters
    const hash = await hasher.hash(`${prefix}ä`);
    assert.equal(await hasher.verify(hash, `${prefix}ä`), true);
    assert.equal(await hasher.verify(hash, `${prefix}ö`), false);
  });

  it('never lets a password over 72 bytes match a kept legacy bcrypt hash, which would ignore its tail', async () => {
    const legacy = await bcrypt.hash(`${PREFIX}A`, 10);
    assert.equal(await bcrypt.compare(`${PREFIX}B`, legacy), true, 'bcrypt itself truncates');
    assert.equal(await hasher.verify(legacy, `${PREFIX}B`), false);
    assert.equal(await hasher.verify(legacy, `${PREFIX}A`), false, 'not even the password it was made from');
  });
});
