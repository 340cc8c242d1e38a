import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { LIMITS, recogniseHash, verifyLegacyHash } from '../../src/accounts/hashes/index.ts';
import { peerBcrypt, peerHashes, type PeerHashes } from '../helpers/peer-hashes.ts';

const PASSWORD = 'correct horse £ battery';

/** Hashes published by the systems that make them, for formats no local peer library produces. */
const PUBLISHED = [
  {
    name: 'Firebase scrypt (firebase/scrypt README)',
    password: 'user1password',
    hash: {
      algorithm: 'firebase-scrypt',
      hash: 'lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==',
      salt: '42xEC+ixf3L2lw==',
      signerKey: 'jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==',
      saltSeparator: 'Bw==',
      rounds: 8,
      memCost: 14,
    },
  },
  { name: 'Drupal 7 $S$ (password-hash.sh output)', password: 'admin1', hash: '$S$D2sypG2KL6EjTo08zxDCAx4D3lcAQx7Tk.hydYvH/hEDiNfo2AHS' },
  { name: 'Drupal 7 $S$ (a second site)', password: 'huan', hash: '$S$DXZrp425p2VN9LXpDWxiBeqSZSPexyZNNPUo80fTTN2e/W15a97G' },
];

describe('legacy password hashes made by other implementations', () => {
  let peers: PeerHashes;
  before(() => {
    peers = peerHashes(PASSWORD);
  });

  it('recognises every peer format, accepts the password and refuses a wrong one', async () => {
    assert.ok(Object.keys(peers).length >= 30);
    for (const [name, hash] of Object.entries(peers)) {
      const recognised = recogniseHash(hash);
      assert.ok(recognised.ok, `${name}: ${recognised.ok ? '' : recognised.problem}`);
      assert.equal(await verifyLegacyHash(recognised.stored, PASSWORD), true, `${name} accepts the password`);
      assert.equal(await verifyLegacyHash(recognised.stored, `${PASSWORD}x`), false, `${name} refuses a wrong password`);
    }
  });

  it('verifies published Firebase and Drupal 7 hashes', async () => {
    for (const { name, password, hash } of PUBLISHED) {
      const recognised = recogniseHash(hash);
      assert.ok(recognised.ok, name);
      assert.equal(await verifyLegacyHash(recognised.stored, password), true, name);
      assert.equal(await verifyLegacyHash(recognised.stored, password.toUpperCase()), false, name);
    }
  });

  it('never lets a bcrypt hash match a password longer than 72 bytes by its prefix', async () => {
    const long = 'a'.repeat(72);
    const hash = peerBcrypt(long);
    assert.equal(await verifyLegacyHash(hash, long), true);
    assert.equal(await verifyLegacyHash(hash, `${long}and-more`), false);
  });
});

describe('hashes Ferry refuses at import', () => {
  const refused = (input: unknown, pattern: RegExp) => {
    const result = recogniseHash(input);
    assert.equal(result.ok, false, JSON.stringify(input));
    assert.match(result.ok ? '' : result.problem, pattern);
  };

  it('names an unknown format instead of creating an account that could never sign in', () => {
    refused('5f4dcc3b5aa765d61d8327deb882cf99', /Unknown password hash format/);
    refused('$9$whatever', /Unknown password hash format/);
    refused(42, /must be a hash string/);
    refused({ algorithm: 'crc32', hash: 'ab' }, /declared hash is not valid/);
    refused({ algorithm: 'sha1', hash: 'zz' }, /not hexadecimal/);
  });

  it('refuses costs that would pin a core at sign-in', () => {
    refused(`$2b$31$${'a'.repeat(53)}`, /bcrypt cost is 31; Ferry accepts 4 to 15/);
    refused(`pbkdf2_sha256$${LIMITS.pbkdf2Iterations + 1}$salt$${'A'.repeat(44)}`, /PBKDF2 iteration count/);
    refused('$pbkdf2-sha256$999999999$c2FsdA$' + 'A'.repeat(43), /PBKDF2 iteration count is 999999999/);
    refused(`$6$rounds=999999999$salt$${'a'.repeat(86)}`, /SHA-crypt rounds is 999999999/);
    refused('$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHQ$' + 'A'.repeat(43), /argon2 memory/);
    refused('$scrypt$ln=24,r=8,p=1$c2FsdA$' + 'A'.repeat(43), /scrypt log2 N is 24/);
    refused('$P$Z' + 'a'.repeat(30), /phpass iteration count is 2\^3/);
  });
});
