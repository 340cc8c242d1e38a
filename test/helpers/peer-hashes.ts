import { execFileSync } from 'node:child_process';

/**
 * Password hashes made by other people's code: passlib, Django and argon2-cffi under the system
 * Python (Debian's python3-passlib, python3-django, python3-argon2, python3-bcrypt; .ci/run
 * installs them). Each fixture is { format, hash } for `password`.
 */
const SCRIPT = String.raw`
import base64, hashlib, hmac, json, struct, sys
from passlib import hash as h
import argon2, bcrypt
from django.conf import settings
settings.configure(PASSWORD_HASHERS=[
  'django.contrib.auth.hashers.PBKDF2PasswordHasher', 'django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher',
  'django.contrib.auth.hashers.Argon2PasswordHasher', 'django.contrib.auth.hashers.BCryptSHA256PasswordHasher',
  'django.contrib.auth.hashers.BCryptPasswordHasher', 'django.contrib.auth.hashers.SHA1PasswordHasher',
  'django.contrib.auth.hashers.MD5PasswordHasher', 'django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher'])
from django.contrib.auth.hashers import make_password
pw = sys.argv[1]
b = pw.encode()
out = {
  'bcrypt $2b$': h.bcrypt.using(rounds=10).hash(pw),
  'bcrypt $2a$': h.bcrypt.using(rounds=10, ident='2a').hash(pw),
  'bcrypt $2y$': h.bcrypt.using(rounds=10, ident='2y').hash(pw),
  'argon2id (argon2-cffi)': argon2.PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1, type=argon2.Type.ID).hash(pw),
  'argon2i (argon2-cffi)': argon2.PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1, type=argon2.Type.I).hash(pw),
  'scrypt (passlib)': h.scrypt.using(rounds=14).hash(pw),
  'pbkdf2-sha256 (passlib)': h.pbkdf2_sha256.hash(pw),
  'pbkdf2-sha512 (passlib)': h.pbkdf2_sha512.hash(pw),
  'pbkdf2-sha1 (passlib)': h.pbkdf2_sha1.hash(pw),
  'sha256-crypt': h.sha256_crypt.using(rounds=20000).hash(pw),
  'sha512-crypt': h.sha512_crypt.hash(pw),
  'sha512-crypt, implicit 5000 rounds': h.sha512_crypt.using(rounds=5000).hash(pw),
  'md5-crypt': h.md5_crypt.hash(pw),
  'apr1 md5-crypt': h.apr_md5_crypt.hash(pw),
  # WordPress 6.8's wp_hash_password, around the bcrypt module.
  'wordpress 6.8 $wp$2y$': '$wp' + bcrypt.hashpw(base64.b64encode(hmac.new(b'wp-sha384', b, 'sha384').digest()), bcrypt.gensalt(10)).decode().replace('$2b$', '$2y$', 1),
  'phpass $P$ (WordPress)': h.phpass.using(ident='P', rounds=8).hash(pw),
  'phpass $H$ (phpBB3)': h.phpass.using(ident='H', rounds=11).hash(pw),
  'django pbkdf2_sha256': make_password(pw, hasher='pbkdf2_sha256'),
  'django pbkdf2_sha1': make_password(pw, hasher='pbkdf2_sha1'),
  'django argon2': make_password(pw, hasher='argon2'),
  'django bcrypt_sha256': make_password(pw, hasher='bcrypt_sha256'),
  'django bcrypt': make_password(pw, hasher='bcrypt'),
  'django sha1': make_password(pw, hasher='sha1'),
  'django md5': make_password(pw, hasher='md5'),
  'django unsalted_sha1': make_password(pw, hasher='unsalted_sha1'),
  'ldap {SHA}': h.ldap_sha1.hash(pw),
  'ldap {SSHA}': h.ldap_salted_sha1.hash(pw),
  'ldap {SSHA256}': h.ldap_salted_sha256.hash(pw),
  'ldap {SSHA512}': h.ldap_salted_sha512.hash(pw),
  'ldap {MD5}': h.ldap_md5.hash(pw),
  'ldap {SMD5}': h.ldap_salted_md5.hash(pw),
  # ASP.NET Identity's layout (Microsoft.AspNetCore.Identity PasswordHasher) around hashlib's PBKDF2.
  'aspnet identity v2': base64.b64encode(b'\x00' + b'S' * 16 + hashlib.pbkdf2_hmac('sha1', b, b'S' * 16, 1000, 32)).decode(),
  'aspnet identity v3': base64.b64encode(struct.pack('>BIII', 1, 1, 10000, 16) + b'T' * 16 + hashlib.pbkdf2_hmac('sha256', b, b'T' * 16, 10000, 32)).decode(),
  'declared sha1 salt+password hex': {'algorithm': 'sha1', 'salt': 'pepper', 'hash': hashlib.sha1(b'pepper' + b).hexdigest(), 'order': 'salt+password'},
  'declared md5 password+salt hex': {'algorithm': 'md5', 'salt': 'xy', 'hash': hashlib.md5(b + b'xy').hexdigest(), 'saltPosition': 'suffix'},
  'declared sha256 unsalted base64': {'algorithm': 'sha256', 'hash': base64.b64encode(hashlib.sha256(b).digest()).decode(), 'encoding': 'base64'},
  'declared hmac-sha256': {'algorithm': 'hmac-sha256', 'salt': 'site-key', 'hash': hmac.new(b'site-key', b, 'sha256').hexdigest()},
}
print(json.dumps(out))
`;

export type PeerHashes = Record<string, string | Record<string, unknown>>;

export function peerHashes(password: string): PeerHashes {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', SCRIPT, password], { encoding: 'utf8' })) as PeerHashes;
}

/** One bcrypt hash from passlib (cost 4: the tests that use it are about bcrypt's 72-byte limit, not its cost). */
export function peerBcrypt(password: string): string {
  const script = 'import sys\nfrom passlib.hash import bcrypt\nprint(bcrypt.using(rounds=4).hash(sys.argv[1]))';
  return execFileSync('/usr/bin/python3', ['-c', script, password], { encoding: 'utf8' }).trim();
}
