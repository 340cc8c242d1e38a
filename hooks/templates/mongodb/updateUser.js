async function updateUser(id, updates, context) {
  // updates holds only the profile fields that change; a new password arrives in plain text.
  // Finishes with the updated profile; throws 'User not exists!' when there is no such user.
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
  // E11000: the unique indexes of schema.js, not this script, guarantee that two users never share
  // an email, username or phone.
  function isDuplicate(error) {
    return Boolean(error) && (error.code === 11000 || /E11000/.test(String(error.message)));
  }
  // -- end of shared helpers --

  // Profile field -> document field. Fields not listed here are ignored.
  const FIELDS = {
    email: 'email',
    phone: 'phone',
    username: 'username',
    name: 'name',
    nickname: 'nickname',
    photo: 'photo',
    token: 'token',
    emailVerified: 'email_verified',
    phoneVerified: 'phone_verified',
    gender: 'gender',
    address: 'address',
    company: 'company',
    birthdate: 'birthdate',
    website: 'website',
    password: 'password',
  };
  const userId = toObjectId(id);
  if (!userId) throw new Error('User not exists!');

  const changes = { updated_at: new Date() };
  for (const field of Object.keys(FIELDS)) {
    if (updates[field] === undefined) continue;
    let value = updates[field];
    if (field === 'password') {
      if (typeof value !== 'string' || value === '') continue;
      value = await bcrypt.hash(value, 10);
    }
    changes[FIELDS[field]] = value;
  }

  const client = createClient();
  await client.connect();
  try {
    const user = await usersOf(client).findOneAndUpdate({ _id: userId }, { $set: changes }, { returnDocument: 'after', projection: PROFILE_PROJECTION });
    if (!user) throw new Error('User not exists!');
    return toProfile(user);
  } catch (error) {
    if (isDuplicate(error)) throw new Error('User already exists!');
    throw error;
  } finally {
    await client.close();
  }
}
