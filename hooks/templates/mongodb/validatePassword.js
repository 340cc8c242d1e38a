async function validatePassword(id, password, context) {
  // Finishes with true when password (plain text) is the user's password, false otherwise;
  // throws 'User not exists!' when there is no such user.
  const bcrypt = require('bcrypt');
  // -- helpers shared by this template's scripts (each script stands alone) --
  // env holds DB_CONNECTION_URI (mongodb://user:password@host:27017/database) or the five
  // DB_HOST, DB_PORT, DB_USERNAME, DB_PASSWORD, DB_DATABASE variables (and, if the user is
  // defined in another database, DB_AUTH_SOURCE).
  function createClient() {
    const { MongoClient } = require('mongodb');
    if (env.DB_CONNECTION_URI) return new MongoClient(env.DB_CONNECTION_URI);
    const credentials = env.DB_USERNAME ? `${encodeURIComponent(env.DB_USERNAME)}:${encodeURIComponent(env.DB_PASSWORD || '')}@` : '';
    const authSource = env.DB_AUTH_SOURCE ? `?authSource=${encodeURIComponent(env.DB_AUTH_SOURCE)}` : '';
    return new MongoClient(`mongodb://${credentials}${env.DB_HOST}:${env.DB_PORT || 27017}/${encodeURIComponent(env.DB_DATABASE || '')}${authSource}`);
  }
  // The database named by DB_DATABASE, else the one in the connection URI.
  function usersOf(client) {
    return client.db(env.DB_DATABASE || undefined).collection('users');
  }
  // Ids arrive as strings (a profile's id is the OIDC subject): the 24-hex-digit form of the
  // ObjectId. Anything else cannot name a document, so it is "not found" rather than an error.
  function toObjectId(value) {
    const { ObjectId } = require('mongodb');
    const text = String(value);
    return /^[0-9a-fA-F]{24}$/.test(text) ? new ObjectId(text) : null;
  }
  // -- end of shared helpers --

  const userId = toObjectId(id);
  if (!userId) throw new Error('User not exists!');
  const client = createClient();
  await client.connect();
  try {
    const user = await usersOf(client).findOne({ _id: userId }, { projection: { password: 1 } });
    if (!user) throw new Error('User not exists!');
    return typeof password === 'string' && typeof user.password === 'string' && (await bcrypt.compare(password, user.password));
  } finally {
    await client.close();
  }
}
