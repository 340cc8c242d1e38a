async function login(query, password, context) {
  // query holds one of query.email, query.username (lower-cased by Ferry) or query.phone (digits,
  // optional leading "+"); password is in plain text. Finishes with the user's profile, or throws
  // 'User not exists!' / 'Password is not valid!' as the GenAuth templates do.
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
  // -- end of shared helpers --

  let filter;
  if (query.email) filter = { email: sameText(query.email) };
  else if (query.username) filter = { username: sameText(query.username) };
  else if (query.phone) filter = { phone: String(query.phone) };
  else throw new Error('User not exists!');

  const client = createClient();
  await client.connect();
  try {
    const user = await usersOf(client).findOne(filter);
    if (!user) throw new Error('User not exists!');
    const valid = typeof password === 'string' && typeof user.password === 'string' && (await bcrypt.compare(password, user.password));
    if (!valid) throw new Error('Password is not valid!');
    return toProfile(user);
  } finally {
    // Always close the connection, whatever happened above.
    await client.close();
  }
}
