import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { Browser, alertText } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, relyingParty, signIn } from '../helpers/relying-party.ts';
import { mysqlReachable, postgresReachable } from '../helpers/services.ts';

const PEPPER = 'legacy-app-pepper-7f3a';

/**
 * A legacy application's users, hashed by Python's hashlib and hmac (not by Node, so that the
 * sandbox's crypto is checked against another implementation): a PHP-style sha1($salt . $password)
 * with the salt in its own column, an HMAC-SHA256 of the password keyed with the application's
 * pepper, and a Django pbkdf2_sha256 string.
 */
const PEER_HASHES = `
import base64, hashlib, hmac, json, sys
users = json.loads(sys.argv[1])
out = []
for u in users:
    pw = u['password'].encode('utf-8')
    if u['scheme'] == 'sha1':
        out.append({'hash': hashlib.sha1(u['salt'].encode() + pw).hexdigest(), 'salt': u['salt']})
    elif u['scheme'] == 'hmac':
        out.append({'hash': hmac.new(sys.argv[2].encode(), pw, hashlib.sha256).hexdigest(), 'salt': None})
    else:
        key = hashlib.pbkdf2_hmac('sha256', pw, u['salt'].encode(), 260000)
        out.append({'hash': 'pbkdf2_sha256$260000$%s$%s' % (u['salt'], base64.b64encode(key).decode()), 'salt': None})
print(json.dumps(out))
`;

const USERS = [
  { email: 'pat@example.com', username: 'pat', name: 'Pat PHP', password: 'pat-päss-wörd', scheme: 'sha1', salt: 'f00dfeed' },
  { email: 'hana@example.com', username: 'hana', name: 'Hana HMAC', password: 'hana-secret-1', scheme: 'hmac', salt: '' },
  { email: 'dj@example.com', username: 'dj', name: 'Django Reinhardt', password: 'dj-guitar-1934', scheme: 'pbkdf2', salt: 'SaltySalt123' },
];

/** The login script, in the seeds' style; only the query differs between the two databases. */
function loginScript(kind: 'postgres' | 'mysql'): string {
  const fetchUser =
    kind === 'postgres'
      ? `const { Client } = require("pg");
  const client = new Client({ connectionString: env.DB_CONNECTION_URI });
  await client.connect();
  const find = async () => (await client.query("SELECT * FROM users WHERE lower(email) = lower($1) OR lower(username) = lower($2) OR phone = $3", [email || null, username || null, phone || null])).rows[0];
  const close = () => client.end();`
      : `const mysql = require("mysql2/promise");
  const connection = await mysql.createConnection(env.DB_CONNECTION_URI);
  const find = async () => (await connection.execute("SELECT * FROM users WHERE LOWER(email) = LOWER(?) OR LOWER(username) = LOWER(?) OR phone = ?", [email || null, username || null, phone || null]))[0][0];
  const close = () => connection.end();`;
  return `async function login(query, password, context) {
  const { email, username, phone } = query;
  const crypto = require("crypto");
  const { promisify } = require("util");
  const pbkdf2 = promisify(crypto.pbkdf2);

  async function passwordMatches(user) {
    const stored = user.password;
    if (stored.startsWith("pbkdf2_sha256$")) {
      // Django: pbkdf2_sha256$<iterations>$<salt>$<base64 key>
      const [, iterations, salt, encoded] = stored.split("$");
      const expected = Buffer.from(encoded, "base64");
      const derived = await pbkdf2(password, salt, parseInt(iterations, 10), expected.length, "sha256");
      return crypto.timingSafeEqual(derived, expected);
    }
    if (user.salt) {
      // The old PHP site: sha1($salt . $password), hex.
      return crypto.createHash("sha1").update(user.salt).update(password, "utf8").digest("hex") === stored;
    }
    // The API's accounts: HMAC-SHA256 of the password, keyed with the application's pepper.
    const digest = crypto.createHmac("sha256", env.APP_PEPPER).update(password).digest();
    const wanted = Buffer.from(stored, "hex");
    return digest.length === wanted.length && crypto.timingSafeEqual(digest, wanted);
  }

  ${fetchUser}
  try {
    const user = await find();
    if (!user) throw new Error("User not exists!");
    if (!(await passwordMatches(user))) throw new Error("Password is not valid!");
    return { id: user.id, email: user.email, username: user.username, name: user.name, emailVerified: Boolean(user.email_verified) };
  } finally {
    close();
  }
}
`;
}

function cryptoLogin(kind: 'postgres' | 'mysql') {
  describe(`a login script using crypto against ${kind === 'postgres' ? 'PostgreSQL' : 'MariaDB'}`, () => {
    let legacy: LegacyDatabase;
    let ferry: TestFerry;
    let config: oidc.Configuration;
    let scriptsDir: string;
    const ids = new Map<string, string>();

    before(async () => {
      await (kind === 'postgres' ? postgresReachable() : mysqlReachable());
      legacy = await createLegacyDatabase(kind, []);
      await legacy.query('ALTER TABLE users ADD COLUMN salt varchar(64) NULL');
      const hashes = JSON.parse(execFileSync('python3', ['-c', PEER_HASHES, JSON.stringify(USERS), PEPPER], { encoding: 'utf8' })) as {
        hash: string;
        salt: string | null;
      }[];
      for (const [i, user] of USERS.entries()) {
        const insert =
          kind === 'postgres'
            ? 'INSERT INTO users (email, username, name, password, salt, email_verified) VALUES ($1, $2, $3, $4, $5, true) RETURNING id'
            : 'INSERT INTO users (email, username, name, password, salt, email_verified) VALUES (?, ?, ?, ?, ?, 1)';
        await legacy.query(insert, [user.email, user.username, user.name, hashes[i]!.hash, hashes[i]!.salt]);
      }
      for (const row of await legacy.users()) ids.set(String(row.email), String(row.id));
      scriptsDir = mkdtempSync(join(tmpdir(), 'ferry-crypto-scripts-'));
      cpSync(join(TEMPLATES, kind), scriptsDir, { recursive: true });
      writeFileSync(join(scriptsDir, 'login.js'), loginScript(kind));
      ferry = await startFerry({
        connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url, APP_PEPPER: PEPPER }, scriptsDir },
      });
      config = await relyingParty(ferry);
    });

    after(async () => {
      await ferry?.stop();
      await legacy?.drop();
      if (ferry) removeDataDir(ferry.dataDir);
      if (scriptsDir) rmSync(scriptsDir, { recursive: true, force: true });
    });

    const lastLogin = async () => {
      await ferry.ferry.federation.executions.flush();
      const { rows } = await ferry.ferry.db.query<{ outcome: string; message: string | null }>(
        "select outcome, message from script_executions where script = 'login' order by id desc limit 1",
      );
      return rows[0];
    };

    for (const user of USERS) {
      it(`signs ${user.username} in through the OIDC flow (${user.scheme}) and refuses a wrong password`, async () => {
        const browser = new Browser();
        const { page } = await beginAuthorization(ferry, config, browser);
        const wrong = await browser.submit(page, '/login', { identifier: user.email, password: `${user.password}x` });
        assert.equal(wrong.status, 401);
        assert.equal(alertText(wrong), 'The sign-in details you entered are not correct. Check them and try again.');
        assert.deepEqual(await lastLogin(), { outcome: 'script_error', message: 'Password is not valid!' }, 'refused by the hash check itself');

        const tokens = await signIn(ferry, config, new Browser(), user.username, user.password);
        const claims = tokens.claims()!;
        assert.equal(claims.sub, ids.get(user.email), 'sub is the legacy id');
        assert.equal(claims.email, user.email);
        assert.equal(claims.name, user.name);
        assert.equal((await lastLogin())?.outcome, 'ok');
      });
    }
  });
}

cryptoLogin('postgres');
cryptoLogin('mysql');
