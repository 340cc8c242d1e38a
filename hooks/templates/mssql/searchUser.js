async function searchUser(keyword, context) {
  // A fuzzy, case-insensitive search on email, username, phone, name and nickname. Finishes with
  // an array of at most 50 profiles.
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
  // -- end of shared helpers --

  // %, _, [ and \ in the keyword are matched literally, not as LIKE wildcards.
  const escaped = String(keyword === undefined || keyword === null ? '' : keyword)
    .toLowerCase()
    .replace(/[\\%_[]/g, (c) => `\\${c}`);
  const pool = await connect();
  try {
    const result = await runQuery(
      pool,
      `SELECT TOP 50 ${COLUMNS} FROM users
        WHERE LOWER(email) LIKE @pattern ESCAPE '\\' OR LOWER(username) LIKE @pattern ESCAPE '\\' OR phone LIKE @pattern ESCAPE '\\'
           OR LOWER(name) LIKE @pattern ESCAPE '\\' OR LOWER(nickname) LIKE @pattern ESCAPE '\\'
        ORDER BY id`,
      [['pattern', sql.NVarChar, `%${escaped}%`]],
    );
    return result.recordset.map(toProfile);
  } finally {
    await pool.close();
  }
}
