async function createUser(userinfo, context) {
  // userinfo holds email, username, phone, password (plain text), nickname, photo and maybe name.
  // Finishes with the new user's profile; throws 'User already exists!' when the email, username
  // or phone belongs to someone.
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
  // ER_DUP_ENTRY (1062): the unique keys of schema.sql, not this script, guarantee that two users
  // never share an email, username or phone.
  function isDuplicate(error) {
    return Boolean(error) && (error.code === 'ER_DUP_ENTRY' || error.errno === 1062);
  }
  // -- end of shared helpers --

  const { email = null, username = null, phone = null, password, nickname = null, photo = null, name = null } = userinfo;
  if (!email && !username && !phone) throw new Error('An email, username or phone is required.');
  const hash = password ? await bcrypt.hash(password, 10) : null;

  const connection = await connect();
  try {
    const [existing] = await connection.execute('SELECT id FROM users WHERE LOWER(email) = LOWER(?) OR LOWER(username) = LOWER(?) OR phone = ? LIMIT 1', [
      email,
      username,
      phone,
    ]);
    if (existing.length > 0) throw new Error('User already exists!');
    const [inserted] = await connection.execute('INSERT INTO users (email, username, phone, password, nickname, photo, name) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      email,
      username,
      phone,
      hash,
      nickname,
      photo,
      name,
    ]);
    const [rows] = await connection.execute(`SELECT ${COLUMNS} FROM users WHERE id = ?`, [inserted.insertId]);
    return toProfile(rows[0]);
  } catch (error) {
    // Someone else may have taken the identifier between the check and the insert.
    if (isDuplicate(error)) throw new Error('User already exists!');
    throw error;
  } finally {
    await connection.end();
  }
}
