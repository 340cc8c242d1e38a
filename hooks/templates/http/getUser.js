async function getUser(query, context) {
  // query may hold id, email, username (lower-cased by Ferry) or phone. Finishes with the profile
  // of a user matching any of them, or null when there is none; throws when the API fails.
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
  // -- end of shared helpers --

  const params = {};
  for (const key of ['id', 'email', 'username', 'phone']) {
    if (query[key] !== undefined && query[key] !== null && query[key] !== '') params[key] = String(query[key]);
  }
  if (Object.keys(params).length === 0) return null;

  const response = await createApi().get('/users/lookup', { params });
  if (response.status === 404) return null;
  if (response.status !== 200) throw unexpected(response);
  return toProfile(response.data);
}
