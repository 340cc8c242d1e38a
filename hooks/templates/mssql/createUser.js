async function createUser(userinfo, context) {
  // userinfo holds email, username, phone, password (plain text), nickname, photo and maybe name.
  // Finishes with the new user's profile; throws 'User already exists!' when the email, username
  // or phone belongs to someone.
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
  // 2601/2627: the unique indexes of schema.sql, not this script, guarantee that two users never
  // share an email, username or phone.
  function isDuplicate(error) {
    return Boolean(error) && (error.number === 2601 || error.number === 2627);
  }
  // -- end of shared helpers --

  const { email = null, username = null, phone = null, password, nickname = null, photo = null, name = null } = userinfo;
  if (!email && !username && !phone) throw new Error('An email, username or phone is required.');
  const hash = password ? await bcrypt.hash(password, 10) : null;

  const pool = await connect();
  try {
    const identifiers = [
      ['email', sql.NVarChar, email],
      ['username', sql.NVarChar, username],
      ['phone', sql.NVarChar, phone],
    ];
    const existing = await runQuery(
      pool,
      'SELECT TOP 1 id FROM users WHERE LOWER(email) = LOWER(@email) OR LOWER(username) = LOWER(@username) OR phone = @phone',
      identifiers,
    );
    if (existing.recordset.length > 0) throw new Error('User already exists!');
    const inserted = await runQuery(
      pool,
      `INSERT INTO users (email, username, phone, password, nickname, photo, name)
       OUTPUT INSERTED.id VALUES (@email, @username, @phone, @password, @nickname, @photo, @name)`,
      [...identifiers, ['password', sql.NVarChar, hash], ['nickname', sql.NVarChar, nickname], ['photo', sql.NVarChar, photo], ['name', sql.NVarChar, name]],
    );
    const result = await runQuery(pool, `SELECT ${COLUMNS} FROM users WHERE id = @id`, [['id', sql.Int, inserted.recordset[0].id]]);
    return toProfile(result.recordset[0]);
  } catch (error) {
    // Someone else may have taken the identifier between the check and the insert.
    if (isDuplicate(error)) throw new Error('User already exists!');
    throw error;
  } finally {
    await pool.close();
  }
}
