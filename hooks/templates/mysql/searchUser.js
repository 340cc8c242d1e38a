async function searchUser(keyword, context) {
  // A fuzzy, case-insensitive search on email, username, phone, name and nickname. Finishes with
  // an array of at most 50 profiles.
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

  // %, _ and \ in the keyword are matched literally, not as LIKE wildcards.
  const escaped = String(keyword === undefined || keyword === null ? '' : keyword)
    .toLowerCase()
    .replace(/[\\%_]/g, (c) => `\\${c}`);
  const pattern = `%${escaped}%`;
  const connection = await connect();
  try {
    const [rows] = await connection.execute(
      `SELECT ${COLUMNS} FROM users
        WHERE LOWER(email) LIKE ? OR LOWER(username) LIKE ? OR phone LIKE ? OR LOWER(name) LIKE ? OR LOWER(nickname) LIKE ?
        ORDER BY id LIMIT 50`,
      [pattern, pattern, pattern, pattern, pattern],
    );
    return rows.map(toProfile);
  } finally {
    await connection.end();
  }
}
