async function getUser(query, context) {
  // query may hold id, email, username (lower-cased by Ferry) or phone. Finishes with the profile
  // of a user matching any of them, or null when there is none; throws when the database fails.
  // -- helpers shared by this template's scripts (each script stands alone) --
  // env holds DB_CONNECTION_URI (mysql://user:password@host:3306/database) or the five
  // DB_HOST, DB_PORT, DB_USERNAME, DB_PASSWORD, DB_DATABASE variables.
  function connect() {
    const mysql = require('mysql2/promise');
    return mysql.createConnection(
      env.DB_CONNECTION_URI
        ? env.DB_CONNECTION_URI
        : { host: env.DB_HOST, port: env.DB_PORT, user: env.DB_USERNAME, password: env.DB_PASSWORD, database: env.DB_DATABASE },
    );
  }
  // A profile's columns. The password hash is selected only where a password is checked, and
  // never returned.
  const COLUMNS = `id, email, phone, username, name, nickname, photo, token, email_verified, phone_verified, logins_count,
    last_ip, gender, address, company, DATE_FORMAT(birthdate, '%Y-%m-%d') AS birthdate, website, updated_at`;
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
      // TINYINT(1) columns arrive as 0/1.
      emailVerified: Boolean(user.email_verified),
      phoneVerified: Boolean(user.phone_verified),
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
  // integer cannot name a row of this table, so it is "not found" rather than an error; checking
  // matters because MySQL would compare id = '7abc' as id = 7.
  function toId(value) {
    const text = String(value);
    return /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 4294967295 ? Number(text) : null;
  }
  // -- end of shared helpers --

  const conditions = [];
  const parameters = [];
  if (query.id !== undefined && query.id !== null) {
    const id = toId(query.id);
    if (id !== null) {
      conditions.push('id = ?');
      parameters.push(id);
    }
  }
  if (query.email) {
    conditions.push('LOWER(email) = LOWER(?)');
    parameters.push(query.email);
  }
  if (query.username) {
    conditions.push('LOWER(username) = LOWER(?)');
    parameters.push(query.username);
  }
  if (query.phone) {
    conditions.push('phone = ?');
    parameters.push(query.phone);
  }
  if (conditions.length === 0) return null;

  const connection = await connect();
  try {
    const [rows] = await connection.execute(`SELECT ${COLUMNS} FROM users WHERE ${conditions.join(' OR ')} ORDER BY id LIMIT 1`, parameters);
    return rows.length === 0 ? null : toProfile(rows[0]);
  } finally {
    await connection.end();
  }
}
