async function getUser(query, context) {
  // query may hold id, email, username (lower-cased by Ferry) or phone. Finishes with the profile
  // of a user matching any of them, or null when there is none; throws when the database fails.
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
  // Emails and usernames match case-insensitively: an anchored regular expression over the
  // literal text (every regex character escaped), so "a.b@x.com" never matches "axb@x.com".
  function sameText(text) {
    return { $regex: `^${String(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, $options: 'i' };
  }
  function toProfile(user) {
    return {
      id: String(user._id),
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
  // Every field but the password hash.
  const PROFILE_PROJECTION = { password: 0 };
  // Ids arrive as strings (a profile's id is the OIDC subject): the 24-hex-digit form of the
  // ObjectId. Anything else cannot name a document, so it is "not found" rather than an error.
  function toObjectId(value) {
    const { ObjectId } = require('mongodb');
    const text = String(value);
    return /^[0-9a-fA-F]{24}$/.test(text) ? new ObjectId(text) : null;
  }
  // -- end of shared helpers --

  const conditions = [];
  if (query.id !== undefined && query.id !== null) {
    const id = toObjectId(query.id);
    if (id) conditions.push({ _id: id });
  }
  if (query.email) conditions.push({ email: sameText(query.email) });
  if (query.username) conditions.push({ username: sameText(query.username) });
  if (query.phone) conditions.push({ phone: String(query.phone) });
  if (conditions.length === 0) return null;

  const client = createClient();
  await client.connect();
  try {
    const user = await usersOf(client).findOne({ $or: conditions }, { projection: PROFILE_PROJECTION });
    return user ? toProfile(user) : null;
  } finally {
    await client.close();
  }
}
