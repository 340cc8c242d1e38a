async function login(query, password, context) {
  // query holds one of query.email, query.username (lower-cased by Ferry) or query.phone (digits,
  // optional leading "+"); password is in plain text. Finishes with the user's profile, or throws
  // 'User not exists!' / 'Password is not valid!' as the GenAuth templates do.
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
  // -- end of shared helpers --

  const conditions = [];
  const inputs = [];
  if (query.email) {
    conditions.push('LOWER(email) = LOWER(@email)');
    inputs.push(['email', sql.NVarChar, query.email]);
  }
  if (query.username) {
    conditions.push('LOWER(username) = LOWER(@username)');
    inputs.push(['username', sql.NVarChar, query.username]);
  }
  if (query.phone) {
    conditions.push('phone = @phone');
    inputs.push(['phone', sql.NVarChar, query.phone]);
  }
  if (conditions.length === 0) throw new Error('User not exists!');

  const pool = await connect();
  try {
    const result = await runQuery(pool, `SELECT TOP 1 ${COLUMNS}, password FROM users WHERE ${conditions.join(' OR ')} ORDER BY id`, inputs);
    if (result.recordset.length === 0) throw new Error('User not exists!');
    const user = result.recordset[0];
    const valid = typeof password === 'string' && typeof user.password === 'string' && (await bcrypt.compare(password, user.password));
    if (!valid) throw new Error('Password is not valid!');
    return toProfile(user);
  } finally {
    // Always close the connection, whatever happened above.
    await pool.close();
  }
}
