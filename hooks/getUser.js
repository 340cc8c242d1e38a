async function getUser(query, context) {
  // query may hold id, email, username (lower-cased by Ferry) or phone. Finishes with the profile
  // of a user matching any of them, or null when there is none; throws when the database fails.
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
  // Ids arrive as strings (a profile's id is the OIDC subject). Anything that is not a positive
  // 32-bit integer cannot name a row of this table, so it is "not found" rather than an error.
  function toId(value) {
    const text = String(value);
    return /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 2147483647 ? Number(text) : null;
  }
  // -- end of shared helpers --

  const conditions = [];
  const parameters = [];
  if (query.id !== undefined && query.id !== null) {
    const id = toId(query.id);
    if (id !== null) {
      parameters.push(id);
      conditions.push(`id = $${parameters.length}`);
    }
  }
  if (query.email) {
    parameters.push(query.email);
    conditions.push(`lower(email) = lower($${parameters.length})`);
  }
  if (query.username) {
    parameters.push(query.username);
    conditions.push(`lower(username) = lower($${parameters.length})`);
  }
  if (query.phone) {
    parameters.push(query.phone);
    conditions.push(`phone = $${parameters.length}`);
  }
  if (conditions.length === 0) return null;

  const client = createClient();
  await client.connect();
  try {
    const result = await client.query(`SELECT ${COLUMNS} FROM users WHERE ${conditions.join(' OR ')} ORDER BY id LIMIT 1`, parameters);
    return result.rows.length === 0 ? null : toProfile(result.rows[0]);
  } finally {
    await client.end();
  }
}
