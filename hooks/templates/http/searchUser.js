async function searchUser(keyword, context) {
  // A fuzzy, case-insensitive search on email, username, phone, name and nickname. Finishes with
  // an array of at most 50 profiles.
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

  const text = keyword === undefined || keyword === null ? '' : String(keyword);
  const response = await createApi().get('/users/search', { params: { keyword: text, limit: 50 } });
  if (response.status !== 200 || !Array.isArray(response.data)) throw unexpected(response);
  return response.data.slice(0, 50).map(toProfile);
}
