async function deleteUser(id, context) {
  // Finishes with true; throws 'User not exists!' when there is no such user.
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
  // Ids arrive as strings (a profile's id is the OIDC subject). Anything that is not a positive
  // 32-bit integer cannot name a row of this table, so it is "not found" rather than an error.
  function toId(value) {
    const text = String(value);
    return /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 2147483647 ? Number(text) : null;
  }
  // -- end of shared helpers --

  const userId = toId(id);
  if (userId === null) throw new Error('User not exists!');
  const pool = await connect();
  try {
    const result = await runQuery(pool, 'DELETE FROM users WHERE id = @id', [['id', sql.Int, userId]]);
    if (result.rowsAffected[0] === 0) throw new Error('User not exists!');
    return true;
  } finally {
    await pool.close();
  }
}
