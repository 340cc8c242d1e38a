async function searchUser(keyword, context) {
  // A fuzzy, case-insensitive search on email, username, phone, name and nickname. Finishes with
  // an array of at most 50 profiles.
  // -- helpers shared by this template's scripts (each script stands alone) --
  // env holds DB_CONNECTION_URI (postgres://user:password@host:5432/database) or the five
  // DB_HOST, DB_PORT, DB_USERNAME, DB_PASSWORD, DB_DATABASE variables.
  function createClient() {
    const { Client } = require('pg');
    return new Client(
      env.DB_CONNECTION_URI
        ? { connectionString: env.DB_CONNECTION_URI }
        : { host: env.DB_HOST, port: env.DB_PORT, user: env.DB_USERNAME, password: env.DB_PASSWORD, database: env.DB_DATABASE },
    );
  }
  // A profile's columns. The password hash is selected only where a password is checked, and
  // never returned.
  const COLUMNS = `id, email, phone, username, name, nickname, photo, token, email_verified, phone_verified, logins_count,
    last_ip, gender, address, company, to_char(birthdate, 'YYYY-MM-DD') AS birthdate, website, updated_at`;
  function toProfile(user) {
    return {
      id: user.id,
      email: user.email,
      phone: user.phone,
      username: user.username,
      photo: user.photo,
      nickname: user.nickname,
      name: user.name,
      token: user.token,
      emailVerified: user.email_verified,
      phoneVerified: user.phone_verified,
      loginsCount: user.logins_count,
      lastIp: user.last_ip,
      gender: user.gender,
      address: user.address,
      company: user.company,
      birthdate: user.birthdate,
      website: user.website,
      updatedAt: user.updated_at,
    };
  }
  // -- end of shared helpers --

  // %, _ and \ in the keyword are matched literally, not as LIKE wildcards.
  const escaped = String(keyword === undefined || keyword === null ? '' : keyword).replace(/[\\%_]/g, (c) => `\\${c}`);
  const client = createClient();
  await client.connect();
  try {
    const result = await client.query(
      `SELECT ${COLUMNS} FROM users
        WHERE email ILIKE $1 OR username ILIKE $1 OR phone ILIKE $1 OR name ILIKE $1 OR nickname ILIKE $1
        ORDER BY id LIMIT 50`,
      [`%${escaped}%`],
    );
    return result.rows.map(toProfile);
  } finally {
    await client.end();
  }
}
