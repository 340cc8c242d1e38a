async function login(query, password, context) {
  // query holds one of query.email, query.username (lower-cased by Ferry) or query.phone (digits,
  // optional leading "+"); password is in plain text. Finishes with the user's profile, or throws
  // 'User not exists!' / 'Password is not valid!' as the GenAuth templates do.
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

  const credentials = { password };
  if (query.email) credentials.email = query.email;
  else if (query.username) credentials.username = query.username;
  else if (query.phone) credentials.phone = query.phone;
  else throw new Error('User not exists!');

  const response = await createApi().post('/login', credentials);
  if (response.status === 404) throw new Error('User not exists!');
  if (response.status === 403) throw new Error('Password is not valid!');
  if (response.status !== 200) throw unexpected(response);
  return toProfile(response.data);
}
