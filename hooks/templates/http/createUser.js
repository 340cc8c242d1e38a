async function createUser(userinfo, context) {
  // userinfo holds email, username, phone, password (plain text), nickname, photo and maybe name.
  // Finishes with the new user's profile; throws 'User already exists!' when the email, username
  // or phone belongs to someone. The API hashes the password (bcrypt, cost 10).
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

  const { email = null, username = null, phone = null, password = null, nickname = null, photo = null, name = null } = userinfo;
  if (!email && !username && !phone) throw new Error('An email, username or phone is required.');

  const response = await createApi().post('/users', { email, username, phone, password, nickname, photo, name });
  if (response.status === 409) throw new Error('User already exists!');
  if (response.status !== 201 && response.status !== 200) throw unexpected(response);
  return toProfile(response.data);
}
