async function listUsers(page, limit, context) {
  // page is 1-based; limit is capped at 100. Finishes with { totalCount, list }.
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

  const size = Math.min(Math.max(Math.floor(Number(limit)) || 10, 1), 100);
  const pageNumber = Math.max(Math.floor(Number(page)) || 1, 1);
  const response = await createApi().get('/users', { params: { page: pageNumber, limit: size } });
  if (response.status !== 200 || !response.data || !Array.isArray(response.data.list)) throw unexpected(response);
  return { totalCount: Number(response.data.totalCount), list: response.data.list.map(toProfile) };
}
