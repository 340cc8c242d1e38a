async function createUser(userinfo, context) {
  // userinfo holds email, username, phone, password (plain text), nickname, photo and maybe name.
  // Finishes with the new user's profile; throws 'User already exists!' when the email, username
  // or phone belongs to someone.
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
  // E11000: the unique indexes of schema.js, not this script, guarantee that two users never share
  // an email, username or phone.
  function isDuplicate(error) {
    return Boolean(error) && (error.code === 11000 || /E11000/.test(String(error.message)));
  }
  // -- end of shared helpers --

  const { email = null, username = null, phone = null, password, nickname = null, photo = null, name = null } = userinfo;
  if (!email && !username && !phone) throw new Error('An email, username or phone is required.');
  const taken = [];
  if (email) taken.push({ email: sameText(email) });
  if (username) taken.push({ username: sameText(username) });
  if (phone) taken.push({ phone: String(phone) });

  const now = new Date();
  const user = {
    email,
    username,
    phone,
    password: password ? await bcrypt.hash(password, 10) : null,
    name,
    nickname,
    photo,
    token: null,
    email_verified: false,
    phone_verified: false,
    logins_count: 0,
    last_ip: null,
    gender: null,
    address: null,
    company: null,
    birthdate: null,
    website: null,
    created_at: now,
    updated_at: now,
  };

  const client = createClient();
  await client.connect();
  try {
    const users = usersOf(client);
    if (await users.findOne({ $or: taken }, { projection: { _id: 1 } })) throw new Error('User already exists!');
    const result = await users.insertOne(user);
    return toProfile({ ...user, _id: result.insertedId });
  } catch (error) {
    // Someone else may have taken the identifier between the check and the insert.
    if (isDuplicate(error)) throw new Error('User already exists!');
    throw error;
  } finally {
    await client.close();
  }
}
