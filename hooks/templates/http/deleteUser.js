async function deleteUser(id, context) {
  // Finishes with true; throws 'User not exists!' when there is no such user.
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
  function userPath(id) {
    return `/users/${encodeURIComponent(String(id))}`;
  }
  // -- end of shared helpers --

  const response = await createApi().delete(userPath(id));
  if (response.status === 404) throw new Error('User not exists!');
  if (response.status !== 204 && response.status !== 200) throw unexpected(response);
  return true;
}
