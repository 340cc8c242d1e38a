async function updateUser(id, updates, context) {
  // updates holds only the profile fields that change; a new password arrives in plain text.
  // Finishes with the updated profile; throws 'User not exists!' when there is no such user.
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
  // Ids arrive as strings (a profile's id is the OIDC subject). Anything that is not a positive
  // integer cannot name a row of this table, so it is "not found" rather than an error; checking
  // matters because MySQL would compare id = '7abc' as id = 7.
  function toId(value) {
    const text = String(value);
    return /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 4294967295 ? Number(text) : null;
  }
  // ER_DUP_ENTRY (1062): the unique keys of schema.sql, not this script, guarantee that two users
  // never share an email, username or phone.
  function isDuplicate(error) {
    return Boolean(error) && (error.code === 'ER_DUP_ENTRY' || error.errno === 1062);
  }
  // -- end of shared helpers --

  // Profile field -> column. Fields not listed here are ignored.
  const FIELDS = {
    email: 'email',
    phone: 'phone',
    username: 'username',
    name: 'name',
    nickname: 'nickname',
    photo: 'photo',
    token: 'token',
    emailVerified: 'email_verified',
    phoneVerified: 'phone_verified',
    gender: 'gender',
    address: 'address',
    company: 'company',
    birthdate: 'birthdate',
    website: 'website',
    password: 'password',
  };
  const userId = toId(id);
  if (userId === null) throw new Error('User not exists!');

  const assignments = [];
  const parameters = [];
  for (const field of Object.keys(FIELDS)) {
    if (updates[field] === undefined) continue;
    let value = updates[field];
    if (field === 'password') {
      if (typeof value !== 'string' || value === '') continue;
      value = await bcrypt.hash(value, 10);
    }
    assignments.push(`${FIELDS[field]} = ?`);
    parameters.push(value);
  }
  // Set explicitly: ON UPDATE CURRENT_TIMESTAMP does not fire when no value actually changes.
  assignments.push('updated_at = CURRENT_TIMESTAMP');

  const connection = await connect();
  try {
    await connection.execute(`UPDATE users SET ${assignments.join(', ')} WHERE id = ?`, [...parameters, userId]);
    // Read back rather than trust affectedRows, which counts only rows whose values changed
    // unless the connection sets CLIENT_FOUND_ROWS.
    const [rows] = await connection.execute(`SELECT ${COLUMNS} FROM users WHERE id = ?`, [userId]);
    if (rows.length === 0) throw new Error('User not exists!');
    return toProfile(rows[0]);
  } catch (error) {
    if (isDuplicate(error)) throw new Error('User already exists!');
    throw error;
  } finally {
    await connection.end();
  }
}
