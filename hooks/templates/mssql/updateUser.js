async function updateUser(id, updates, context) {
  // updates holds only the profile fields that change; a new password arrives in plain text.
  // Finishes with the updated profile; throws 'User not exists!' when there is no such user.
  const sql = require('mssql');
  const bcrypt = require('bcrypt');
  // -- helpers shared by this template's scripts (each script stands alone) --
  // env holds DB_CONNECTION_URI, either mssql://user:password@host:1433/database or an ADO.NET
  // string ("Server=host,1433;Database=app;User Id=...;Password=...;Encrypt=true"), or the five
  // DB_HOST, DB_PORT, DB_USERNAME, DB_PASSWORD, DB_DATABASE variables. DB_ENCRYPT=false turns TLS
  // off; DB_TRUST_SERVER_CERTIFICATE=true accepts a self-signed server certificate.
  function connect() {
    const options = { encrypt: env.DB_ENCRYPT !== 'false', trustServerCertificate: env.DB_TRUST_SERVER_CERTIFICATE === 'true' };
    const uri = env.DB_CONNECTION_URI;
    let config;
    if (uri && /^(mssql|sqlserver):\/\//i.test(uri)) {
      const url = new URL(uri);
      config = {
        server: url.hostname,
        port: Number(url.port || 1433),
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: decodeURIComponent(url.pathname.slice(1)),
        options,
      };
    } else if (uri) {
      config = uri;
    } else {
      config = { server: env.DB_HOST, port: Number(env.DB_PORT || 1433), user: env.DB_USERNAME, password: env.DB_PASSWORD, database: env.DB_DATABASE, options };
    }
    return new sql.ConnectionPool(config).connect();
  }
  // One query with typed @name parameters: inputs is a list of [name, type, value].
  function runQuery(pool, text, inputs = []) {
    const request = pool.request();
    for (const [name, type, value] of inputs) request.input(name, type, value);
    return request.query(text);
  }
  // A profile's columns. The password hash is selected only where a password is checked, and
  // never returned.
  const COLUMNS = `id, email, phone, username, name, nickname, photo, token, email_verified, phone_verified, logins_count,
    last_ip, gender, address, company, CONVERT(char(10), birthdate, 23) AS birthdate, website, updated_at`;
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
  // 2601/2627: the unique indexes of schema.sql, not this script, guarantee that two users never
  // share an email, username or phone.
  function isDuplicate(error) {
    return Boolean(error) && (error.number === 2601 || error.number === 2627);
  }
  // -- end of shared helpers --

  // Profile field -> [column, type]. Fields not listed here are ignored.
  const FIELDS = {
    email: ['email', sql.NVarChar],
    phone: ['phone', sql.NVarChar],
    username: ['username', sql.NVarChar],
    name: ['name', sql.NVarChar],
    nickname: ['nickname', sql.NVarChar],
    photo: ['photo', sql.NVarChar],
    token: ['token', sql.NVarChar],
    emailVerified: ['email_verified', sql.Bit],
    phoneVerified: ['phone_verified', sql.Bit],
    gender: ['gender', sql.NVarChar],
    address: ['address', sql.NVarChar],
    company: ['company', sql.NVarChar],
    birthdate: ['birthdate', sql.NVarChar],
    website: ['website', sql.NVarChar],
    password: ['password', sql.NVarChar],
  };
  const userId = toId(id);
  if (userId === null) throw new Error('User not exists!');

  const assignments = [];
  const inputs = [['id', sql.Int, userId]];
  for (const field of Object.keys(FIELDS)) {
    if (updates[field] === undefined) continue;
    let value = updates[field];
    if (field === 'password') {
      if (typeof value !== 'string' || value === '') continue;
      value = await bcrypt.hash(value, 10);
    }
    const [column, type] = FIELDS[field];
    assignments.push(`${column} = @${column}`);
    inputs.push([column, type, value]);
  }
  assignments.push('updated_at = SYSUTCDATETIME()');

  const pool = await connect();
  try {
    const updated = await runQuery(pool, `UPDATE users SET ${assignments.join(', ')} WHERE id = @id`, inputs);
    if (updated.rowsAffected[0] === 0) throw new Error('User not exists!');
    const result = await runQuery(pool, `SELECT ${COLUMNS} FROM users WHERE id = @id`, [['id', sql.Int, userId]]);
    return toProfile(result.recordset[0]);
  } catch (error) {
    if (isDuplicate(error)) throw new Error('User already exists!');
    throw error;
  } finally {
    await pool.close();
  }
}
