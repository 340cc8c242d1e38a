async function updateUser(id, updates, context) {
  // updates holds only the profile fields that change; a new password arrives in plain text and
  // is hashed by the API. Finishes with the updated profile; throws 'User not exists!' when there
  // is no such user.
  // -- helpers shared by this template's scripts (each script stands alone) --
  // env.API_BASE_URL is the user API's base URL (see api.md); env.API_TOKEN its bearer token.
  // Statuses below 500 are answers each script reads; 5xx and network failures throw.
  function createApi() {
    const axios = require('axios');
    return axios.create({
      baseURL: env.API_BASE_URL,
      timeout: 5000,
      headers: { Authorization: `Bearer ${env.API_TOKEN}` },
      validateStatus: (status) => status < 500,
    });
  }
  function unexpected(response) {
    const detail = response.data && typeof response.data.message === 'string' ? `: ${response.data.message}` : '';
    return new Error(`The user API answered ${response.status}${detail}`);
  }
  // Only profile fields are passed on: whatever else the API sends (a hash, internal flags) stays here.
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
      emailVerified: user.emailVerified,
      phoneVerified: user.phoneVerified,
      loginsCount: user.loginsCount,
      lastIp: user.lastIp,
      gender: user.gender,
      address: user.address,
      company: user.company,
      birthdate: user.birthdate,
      website: user.website,
      updatedAt: user.updatedAt,
    };
  }
  function userPath(id) {
    return `/users/${encodeURIComponent(String(id))}`;
  }
  // -- end of shared helpers --

  // Only these fields are sent; anything else in updates is ignored.
  const FIELDS = [
    'email',
    'phone',
    'username',
    'name',
    'nickname',
    'photo',
    'token',
    'emailVerified',
    'phoneVerified',
    'gender',
    'address',
    'company',
    'birthdate',
    'website',
    'password',
  ];
  const changes = {};
  for (const field of FIELDS) {
    if (updates[field] === undefined) continue;
    if (field === 'password' && (typeof updates.password !== 'string' || updates.password === '')) continue;
    changes[field] = updates[field];
  }

  const response = await createApi().patch(userPath(id), changes);
  if (response.status === 404) throw new Error('User not exists!');
  if (response.status === 409) throw new Error('User already exists!');
  if (response.status !== 200) throw unexpected(response);
  return toProfile(response.data);
}
