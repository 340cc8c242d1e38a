async function searchUser(keyword, context) {
  // A fuzzy, case-insensitive search on email, username, phone, name and nickname. Finishes with
  // an array of at most 50 profiles.
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
  // -- end of shared helpers --

  // The keyword is matched literally: every regex character is escaped.
  const text = String(keyword === undefined || keyword === null ? '' : keyword).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const contains = { $regex: text, $options: 'i' };
  const client = createClient();
  await client.connect();
  try {
    const users = await usersOf(client)
      .find(
        { $or: [{ email: contains }, { username: contains }, { phone: contains }, { name: contains }, { nickname: contains }] },
        { projection: PROFILE_PROJECTION },
      )
      .sort({ _id: 1 })
      .limit(50)
      .toArray();
    return users.map(toProfile);
  } finally {
    await client.close();
  }
}
