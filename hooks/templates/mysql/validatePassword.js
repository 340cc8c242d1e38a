async function validatePassword(id, password, context) {
  // Finishes with true when password (plain text) is the user's password, false otherwise;
  // throws 'User not exists!' when there is no such user.
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
  // Ids arrive as strings (a profile's id is the OIDC subject). Anything that is not a positive
  // integer cannot name a row of this table, so it is "not found" rather than an error; checking
  // matters because MySQL would compare id = '7abc' as id = 7.
  function toId(value) {
    const text = String(value);
    return /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 4294967295 ? Number(text) : null;
  }
  // -- end of shared helpers --

  const userId = toId(id);
  if (userId === null) throw new Error('User not exists!');
  const connection = await connect();
  try {
    const [rows] = await connection.execute('SELECT password FROM users WHERE id = ?', [userId]);
    if (rows.length === 0) throw new Error('User not exists!');
    const hash = rows[0].password;
    return typeof password === 'string' && typeof hash === 'string' && (await bcrypt.compare(password, hash));
  } finally {
    await connection.end();
  }
}
