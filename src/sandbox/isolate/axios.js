// @ts-check
// require('axios'): HTTP requests made by the host, under the connection's outbound policy.
/** @param {Ferry} ferry the runtime's helpers (runtime/require.js) */
function axiosModule(ferry) {
  const { call, makeError } = ferry;
  const METHODS_WITHOUT_DATA = ['get', 'delete', 'head', 'options'];
  const METHODS_WITH_DATA = ['post', 'put', 'patch'];

  const HEADER_GROUPS = ['common', 'get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

  /** axios's header layout: plain names, plus `common` and per-method groups. */
  function flattenHeaders(headers, method) {
    const out = {};
    if (!headers || typeof headers !== 'object') return out;
    for (const key of Object.keys(headers)) {
      const value = headers[key];
      if (!HEADER_GROUPS.includes(key) && value !== undefined && value !== null && typeof value !== 'object') out[key] = value;
    }
    return { ...(headers.common || {}), ...(headers[method] || {}), ...out };
  }

  /** A request's config over the instance's defaults (read at request time, so changing axios.defaults works). */
  function merge(defaults, config) {
    const method = String(config.method || defaults.method || 'get').toLowerCase();
    return { ...defaults, ...config, method, headers: { ...flattenHeaders(defaults.headers, method), ...flattenHeaders(config.headers, method) } };
  }

  /** Defaults with every header group present, as axios.defaults has them. */
  function withHeaderGroups(defaults) {
    const headers = {};
    for (const group of HEADER_GROUPS) headers[group] = { ...(defaults.headers?.[group] || {}) };
    for (const key of Object.keys(defaults.headers || {})) if (!HEADER_GROUPS.includes(key)) headers[key] = defaults.headers[key];
    return { ...defaults, headers };
  }

  function serialise(config) {
    let data = config.data;
    const headers = {};
    for (const key of Object.keys(config.headers || {})) {
      const value = config.headers[key];
      if (value !== undefined && value !== null && typeof value !== 'object') headers[key] = String(value);
    }
    const has = (name) => Object.keys(headers).some((key) => key.toLowerCase() === name);
    if (data instanceof URLSearchParams) {
      data = data.toString();
      if (!has('content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (data !== undefined && data !== null && typeof data === 'object' && !(data instanceof Uint8Array)) {
      data = JSON.stringify(data);
      if (!has('content-type')) headers['Content-Type'] = 'application/json';
    }
    let url =
      config.baseURL && !/^[a-z][a-z0-9+.-]*:/i.test(config.url || '')
        ? `${config.baseURL.replace(/\/+$/, '')}/${String(config.url || '').replace(/^\/+/, '')}`
        : String(config.url || '');
    if (config.params) {
      const query = new URLSearchParams();
      for (const key of Object.keys(config.params)) {
        const value = config.params[key];
        if (value === undefined || value === null) continue;
        if (Array.isArray(value)) for (const item of value) query.append(`${key}[]`, item);
        else query.append(key, value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : value);
      }
      const text = query.toString();
      if (text) url += (url.includes('?') ? '&' : '?') + text;
    }
    if (config.auth) headers.Authorization = `Basic ${btoa(`${config.auth.username || ''}:${config.auth.password || ''}`)}`;
    return {
      method: String(config.method || 'get').toUpperCase(),
      url,
      headers,
      data: data === undefined || data === null ? undefined : data,
      timeout: config.timeout,
      responseType: config.responseType,
      maxRedirects: config.maxRedirects,
    };
  }

  function parseData(response, responseType) {
    if (responseType === 'arraybuffer') return response.body;
    const text = response.body.toString('utf8');
    if (responseType === 'text') return text;
    try {
      return text === '' ? text : JSON.parse(text);
    } catch {
      return text;
    }
  }

  function interceptorList() {
    const handlers = [];
    return {
      handlers,
      use(fulfilled, rejected) {
        handlers.push({ fulfilled, rejected });
        return handlers.length - 1;
      },
      eject(id) {
        if (handlers[id]) handlers[id] = null;
      },
      clear() {
        handlers.length = 0;
      },
    };
  }

  /**
   * An axios instance: a function with the request methods, defaults and interceptors on it.
   * @param {Record<string, any>} [initial]
   * @returns {any}
   */
  function create(initial = {}) {
    const defaults = withHeaderGroups(initial);
    const interceptors = { request: interceptorList(), response: interceptorList() };
    async function request(configOrUrl, maybeConfig) {
      let config = typeof configOrUrl === 'string' ? merge(defaults, { ...(maybeConfig || {}), url: configOrUrl }) : merge(defaults, configOrUrl || {});
      for (const handler of interceptors.request.handlers.slice().reverse()) {
        if (handler && typeof handler.fulfilled === 'function') config = (await handler.fulfilled(config)) || config;
      }
      /** @type {Promise<{ response?: any, error?: any }>} */
      let outcome = send(config).then(
        (response) => ({ response }),
        (error) => ({ error }),
      );
      for (const handler of interceptors.response.handlers) {
        if (!handler) continue;
        outcome = outcome.then(async (result) => {
          try {
            if (result.error === undefined)
              return { response: typeof handler.fulfilled === 'function' ? await handler.fulfilled(result.response) : result.response };
            if (typeof handler.rejected === 'function') return { response: await handler.rejected(result.error) };
            return result;
          } catch (error) {
            return { error };
          }
        });
      }
      const result = await outcome;
      if (result.error !== undefined) throw result.error;
      return result.response;
    }
    async function send(config) {
      const wire = serialise(config);
      let raw;
      try {
        raw = await call('http.request', [wire]);
      } catch (/** @type {any} */ error) {
        error.isAxiosError = true;
        error.config = config;
        throw error;
      }
      const response = { data: parseData(raw, config.responseType), status: raw.status, statusText: raw.statusText, headers: raw.headers, config, request: {} };
      const validate = typeof config.validateStatus === 'function' ? config.validateStatus : (status) => status >= 200 && status < 300;
      if (config.validateStatus === null || validate(response.status)) return response;
      /** @type {CodedError & Record<string, any>} */
      const error = makeError({
        message: `Request failed with status code ${response.status}`,
        code: response.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST',
      });
      error.name = 'AxiosError';
      error.isAxiosError = true;
      error.response = response;
      error.config = config;
      error.status = response.status;
      error.toJSON = () => ({ message: error.message, code: error.code, status: error.status });
      throw error;
    }
    const instance = (configOrUrl, config) => request(configOrUrl, config);
    instance.request = (config) => request(config);
    for (const method of METHODS_WITHOUT_DATA) instance[method] = (url, config = {}) => request({ ...config, method, url });
    for (const method of METHODS_WITH_DATA) instance[method] = (url, data, config = {}) => request({ ...config, method, url, data });
    instance.defaults = defaults;
    instance.create = (more = {}) =>
      create({
        ...defaults,
        ...more,
        headers: { ...defaults.headers, ...(more.headers || {}), common: { ...defaults.headers.common, ...(more.headers?.common || {}) } },
      });
    instance.isAxiosError = (value) => Boolean(value?.isAxiosError);
    instance.interceptors = interceptors;
    return instance;
  }

  const axios = create();
  axios.default = axios;
  axios.all = (promises) => Promise.all(promises);
  axios.spread = (fn) => (array) => fn(...array);
  return axios;
}
