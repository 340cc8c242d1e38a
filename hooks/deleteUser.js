async function deleteUser(id, context) {
  // Finishes with true; throws 'User not exists!' when there is no such user.
  // -- helpers shared by this template's scripts (each script stands alone) --
  // env holds DB_CONNECTION_URI (postgres://user:password@host:5432/database) or the five
  // DB_HOST, DB_PORT, DB_USERNAME, DB_PASSWORD, DB_DATABASE variables.
  function createClient() {
    const { Client } = require('pg');
    return new Client(
      env.DB_CONNECTION_URI
        ? { connectionString: env.DB_CONNECTION_URI }
        : { host: env.DB_HOST, port: env.DB_PORT, user: env.DB_USERNAME, password: env.DB_PASSWORD, database: env.DB_DATABASE },
    );
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
  const client = createClient();
  await client.connect();
  try {
    const result = await client.query('DELETE FROM users WHERE id = $1', [userId]);
    if (result.rowCount === 0) throw new Error('User not exists!');
    return true;
  } finally {
    await client.end();
  }
}
