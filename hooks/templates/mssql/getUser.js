async function getUser(query, context) {
  // query may hold id, email, username (lower-cased by Ferry) or phone. Finishes with the profile
  // of a user matching any of them, or null when there is none; throws when the database fails.
  const sql = require('mssql');
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
  // -- end of shared helpers --

  const conditions = [];
  const inputs = [];
  if (query.id !== undefined && query.id !== null) {
    const id = toId(query.id);
    if (id !== null) {
      conditions.push('id = @id');
      inputs.push(['id', sql.Int, id]);
    }
  }
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
  if (conditions.length === 0) return null;

  const pool = await connect();
  try {
    const result = await runQuery(pool, `SELECT TOP 1 ${COLUMNS} FROM users WHERE ${conditions.join(' OR ')} ORDER BY id`, inputs);
    return result.recordset.length === 0 ? null : toProfile(result.recordset[0]);
  } finally {
    await pool.close();
  }
}
