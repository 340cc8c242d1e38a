async function login(query, password, context) {
  // query holds one of query.email, query.username (lower-cased by Ferry) or query.phone (digits,
  // optional leading "+"); password is in plain text. Finishes with the user's profile, or throws
  // 'User not exists!' / 'Password is not valid!' as the GenAuth templates do.
  const bcrypt = require('bcrypt');
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
  // -- end of shared helpers --

  const conditions = [];
  const parameters = [];
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
  if (conditions.length === 0) throw new Error('User not exists!');

  const connection = await connect();
  try {
    const [rows] = await connection.execute(`SELECT ${COLUMNS}, password FROM users WHERE ${conditions.join(' OR ')} ORDER BY id LIMIT 1`, parameters);
    if (rows.length === 0) throw new Error('User not exists!');
    const user = rows[0];
    const valid = typeof password === 'string' && typeof user.password === 'string' && (await bcrypt.compare(password, user.password));
    if (!valid) throw new Error('Password is not valid!');
    return toProfile(user);
  } finally {
    // Always close the connection, whatever happened above.
    await connection.end();
  }
}
