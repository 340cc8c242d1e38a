async function listUsers(page, limit, context) {
  // page is 1-based; limit is capped at 100. Finishes with { totalCount, list }.
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

  const size = Math.min(Math.max(Math.floor(Number(limit)) || 10, 1), 100);
  const offset = (Math.max(Math.floor(Number(page)) || 1, 1) - 1) * size;
  const client = createClient();
  await client.connect();
  try {
    const count = await client.query('SELECT count(*) AS total FROM users');
    const result = await client.query(`SELECT ${COLUMNS} FROM users ORDER BY id LIMIT $1 OFFSET $2`, [size, offset]);
    // count(*) is a bigint, which node-postgres returns as a string.
    return { totalCount: Number(count.rows[0].total), list: result.rows.map(toProfile) };
  } finally {
    await client.end();
  }
}
