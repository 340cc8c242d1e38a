async function listUsers(page, limit, context) {
  // page is 1-based; limit is capped at 100. Finishes with { totalCount, list }.
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

  const size = Math.min(Math.max(Math.floor(Number(limit)) || 10, 1), 100);
  const offset = (Math.max(Math.floor(Number(page)) || 1, 1) - 1) * size;
  const connection = await connect();
  try {
    const [count] = await connection.execute('SELECT COUNT(*) AS total FROM users');
    // query(), not execute(): MySQL 8 refuses numbers bound to LIMIT in prepared statements
    // ("Incorrect arguments to mysqld_stmt_execute"); query() still sends them as parameters.
    const [rows] = await connection.query(`SELECT ${COLUMNS} FROM users ORDER BY id LIMIT ? OFFSET ?`, [size, offset]);
    return { totalCount: Number(count[0].total), list: rows.map(toProfile) };
  } finally {
    await connection.end();
  }
}
