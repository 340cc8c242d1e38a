import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIdentifier, toScriptQuery } from '../../src/accounts/identifier.ts';
import { checkProfile, profileIdentifiers } from '../../src/connection/profile.ts';
import { profileToClaims } from '../../src/oidc/claims.ts';

describe('identifiers typed into the login form', () => {
  it('becomes exactly one of email, phone or username, normalised', () => {
    assert.deepEqual(parseIdentifier('  Ada@Example.COM '), { kind: 'email', value: 'ada@example.com' });
    assert.deepEqual(parseIdentifier('+1 (555) 010-0001'), { kind: 'phone', value: '+15550100001' });
    assert.deepEqual(parseIdentifier('Ａｄａ_Lovelace'), { kind: 'username', value: 'ada_lovelace' }, 'NFKC folds full-width letters');
    assert.deepEqual(toScriptQuery({ kind: 'phone', value: '+15550100001' }), { email: undefined, phone: '+15550100001', username: undefined });
  });

  it('refuses what can be none of them', () => {
    for (const bad of ['', '   ', '@', 'a b', '12', 'x'.repeat(70), undefined, 42]) assert.equal(parseIdentifier(bad), undefined, String(bad));
  });
});

describe('profiles returned by scripts', () => {
  it('needs a non-empty id and keeps it as given', () => {
    assert.deepEqual(checkProfile({ id: 7, email: 'a@b.c' }), { ok: true, profile: { id: 7, email: 'a@b.c' }, legacyId: '7' });
    for (const bad of [{}, { id: '' }, { id: '  ' }, { id: null }, { id: { nested: 1 } }, null, [], 'x']) {
      assert.equal(checkProfile(bad).ok, false, JSON.stringify(bad));
    }
  });

  it('refuses prototype keys at any depth, wrong types and oversized data', () => {
    const polluted = JSON.parse('{"id": 1, "address": {"__proto__": {"admin": true}}}');
    assert.match((checkProfile(polluted) as { problem: string }).problem, /__proto__/);
    assert.match((checkProfile({ id: 1, constructor: 'x' }) as { problem: string }).problem, /constructor/);
    assert.match((checkProfile({ id: 1, email: 42 }) as { problem: string }).problem, /email/);
    assert.match((checkProfile({ id: 1, bio: 'x'.repeat(5000) }) as { problem: string }).problem, /longer/);
    let deep: Record<string, unknown> = { id: 1 };
    for (let i = 0; i < 12; i++) deep = { id: 1, next: deep };
    assert.match((checkProfile(deep) as { problem: string }).problem, /nested/);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });

  it('drops password material and turns dates and big integers into plain values', () => {
    const check = checkProfile({ id: 9007199254740993n, password: '$2b$10$x', salt: 's', updatedAt: new Date(0), loginsCount: 3n });
    assert.equal(check.ok, true);
    const { profile, legacyId } = check as { profile: Record<string, unknown>; legacyId: string };
    assert.equal(legacyId, '9007199254740993');
    assert.equal(profile.password, undefined);
    assert.equal(profile.salt, undefined);
    assert.equal(profile.updatedAt, '1970-01-01T00:00:00.000Z');
    assert.equal(profile.loginsCount, 3);
  });

  it('offers its identifiers normalised for the unique columns', () => {
    assert.deepEqual(profileIdentifiers({ id: 1, email: 'X@Y.Z', phone: 15550001, username: 'Bob' }), { email: 'x@y.z', phone: '15550001', username: 'bob' });
  });
});

describe('profile to claims', () => {
  it('maps the fields of product.md and keeps secrets out', () => {
    const claims = profileToClaims(
      {
        id: 1,
        email: 'a@b.c',
        emailVerified: 1,
        phone: '+1555',
        phoneVerified: 'f',
        username: 'ann',
        name: 'Ann',
        nickname: 'A',
        givenName: 'Ann',
        familyName: 'Lee',
        middleName: 'Q',
        photo: 'https://x/p.png',
        gender: 'f',
        birthdate: new Date('1990-02-03T00:00:00Z'),
        website: 'https://ann.example',
        locale: 'en',
        zoneinfo: 'Europe/Paris',
        address: '1 Main St',
        updatedAt: '2024-01-01T00:00:00Z',
        token: 'secret-token',
        company: 'Acme',
        password: 'x',
      },
      '1',
      ['company', 'token', 'password'],
    );
    assert.deepEqual(claims, {
      sub: '1',
      email: 'a@b.c',
      email_verified: true,
      phone_number: '+1555',
      phone_number_verified: false,
      preferred_username: 'ann',
      name: 'Ann',
      nickname: 'A',
      given_name: 'Ann',
      family_name: 'Lee',
      middle_name: 'Q',
      picture: 'https://x/p.png',
      gender: 'f',
      birthdate: '1990-02-03',
      website: 'https://ann.example',
      locale: 'en',
      zoneinfo: 'Europe/Paris',
      address: { formatted: '1 Main St' },
      updated_at: 1704067200,
      company: 'Acme',
    });
  });

  it('releases a verification flag only with the value it verifies', () => {
    assert.deepEqual(profileToClaims({ id: 2, username: 'bo', emailVerified: false, phoneVerified: false }, '2'), { sub: '2', preferred_username: 'bo' });
    assert.deepEqual(profileToClaims({ id: 3, phone: '', phoneVerified: true, email: 'c@d.e', emailVerified: 0 }, '3'), {
      sub: '3',
      email: 'c@d.e',
      email_verified: false,
    });
  });
});
