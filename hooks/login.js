async function login(query, password, context) {
  // query holds one of query.email, query.username (lower-cased by Ferry) or query.phone (digits,
  // optional leading "+"); password is in plain text. Finishes with the user's profile, or throws
  // 'User not exists!' / 'Password is not valid!' as the GenAuth templates do.
  const bcrypt = require('bcrypt');
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

  const conditions = [];
  const parameters = [];
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
  if (conditions.length === 0) throw new Error('User not exists!');

  const client = createClient();
  await client.connect();
  try {
    const result = await client.query(`SELECT ${COLUMNS}, password FROM users WHERE ${conditions.join(' OR ')} ORDER BY id LIMIT 1`, parameters);
    if (result.rows.length === 0) throw new Error('User not exists!');
    const user = result.rows[0];
    const valid = typeof password === 'string' && typeof user.password === 'string' && (await bcrypt.compare(password, user.password));
    if (!valid) throw new Error('Password is not valid!');
    return toProfile(user);
  } finally {
    // Always close the connection, whatever happened above.
    await client.end();
  }
}
