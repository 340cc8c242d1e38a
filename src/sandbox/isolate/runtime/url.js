// @ts-check
// URL: parsed by the host's WHATWG parser, so it behaves exactly like Node's.
const URL_PARTS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
/**
 * @typedef {object} UrlEntry
 * @property {[string, string][]} list a URLSearchParams' pairs
 * @property {URL} [url] the URL a URLSearchParams belongs to
 * @property {Record<string, string>} parts a URL's parts, as the host parsed them
 * @property {URLSearchParams} params a URL's searchParams
 */
/**
 * Each URLSearchParams' state and each URL's, kept where script code cannot reach it. Typed as
 * always answering: every instance is entered by its constructor.
 * @type {{ get(owner: object): UrlEntry, set(owner: object, entry: Partial<UrlEntry>): unknown }}
 */
const urlState = /** @type {any} */ (new WeakMap());
class URLSearchParams {
  /** @param {any} [init] a query string, an iterable of pairs, or a record */
  constructor(init = '') {
    urlState.set(this, { list: [], url: undefined });
    if (typeof init === 'string') this._parse(init);
    else if (init && typeof init[$Symbol.iterator] === 'function') for (const [key, value] of init) this.append(key, value);
    else if (init && typeof init === 'object') for (const key of $keys(init)) this.append(key, init[key]);
  }
  /** @param {string} text */
  _parse(text) {
    const state = urlState.get(this);
    state.list = [];
    const query = text.charAt(0) === '?' ? text.slice(1) : text;
    if (!query) return;
    for (const part of query.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const key = eq === -1 ? part : part.slice(0, eq);
      const value = eq === -1 ? '' : part.slice(eq + 1);
      push(state.list, [formDecode(key), formDecode(value)]);
    }
  }
  _update() {
    const state = urlState.get(this);
    if (state.url) state.url._setSearch(this.toString());
  }
  /**
   * @param {unknown} key
   * @param {unknown} value
   */
  append(key, value) {
    push(urlState.get(this).list, [$String(key), $String(value)]);
    this._update();
  }
  /** @param {unknown} key */
  delete(key) {
    const state = urlState.get(this);
    state.list = state.list.filter(([k]) => k !== $String(key));
    this._update();
  }
  /** @param {unknown} key */
  get(key) {
    const found = urlState.get(this).list.find(([k]) => k === $String(key));
    return found ? found[1] : null;
  }
  /** @param {unknown} key */
  getAll(key) {
    return urlState
      .get(this)
      .list.filter(([k]) => k === $String(key))
      .map(([, v]) => v);
  }
  /** @param {unknown} key */
  has(key) {
    return urlState.get(this).list.some(([k]) => k === $String(key));
  }
  /**
   * @param {unknown} key
   * @param {unknown} value
   */
  set(key, value) {
    const state = urlState.get(this);
    const name = $String(key);
    const index = state.list.findIndex(([k]) => k === name);
    if (index === -1) push(state.list, [name, $String(value)]);
    else {
      state.list[index] = [name, $String(value)];
      state.list = state.list.filter(([k], i) => k !== name || i === index);
    }
    this._update();
  }
  sort() {
    urlState.get(this).list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this._update();
  }
  /**
   * @param {Function} fn
   * @param {unknown} [thisArg]
   */
  forEach(fn, thisArg) {
    for (const [k, v] of urlState.get(this).list) $apply(fn, thisArg, [v, k, this]);
  }
  keys() {
    return urlState
      .get(this)
      .list.map(([k]) => k)
      [$Symbol.iterator]();
  }
  values() {
    return urlState
      .get(this)
      .list.map(([, v]) => v)
      [$Symbol.iterator]();
  }
  entries() {
    return urlState
      .get(this)
      .list.map(([k, v]) => [k, v])
      [$Symbol.iterator]();
  }
  [$Symbol.iterator]() {
    return this.entries();
  }
  get size() {
    return urlState.get(this).list.length;
  }
  toString() {
    return urlState
      .get(this)
      .list.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`)
      .join('&');
  }
}
/** @param {string} text */
function formEncode(text) {
  return encodeURIComponent(text)
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
/** @param {string} text */
function formDecode(text) {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

class URL {
  /**
   * @param {unknown} input
   * @param {unknown} [base]
   */
  constructor(input, base) {
    const parts = callSync('url.parse', [$String(input), base === undefined ? undefined : $String(base)]);
    const params = new URLSearchParams(parts.search);
    urlState.get(params).url = this;
    urlState.set(this, { parts, params });
  }
  /**
   * @param {unknown} input
   * @param {unknown} [base]
   */
  static canParse(input, base) {
    try {
      new URL(input, base);
      return true;
    } catch {
      return false;
    }
  }
  /** @param {string} search */
  _setSearch(search) {
    this._set('search', search);
  }
  /**
   * @param {string} part
   * @param {unknown} value
   */
  _set(part, value) {
    const state = urlState.get(this);
    state.parts = callSync('url.set', [state.parts.href, part, $String(value)]);
    if (part !== 'search' && part !== 'href') return;
    const fresh = new URLSearchParams(state.parts.search);
    urlState.get(state.params).list = urlState.get(fresh).list;
  }
  get searchParams() {
    return urlState.get(this).params;
  }
  // href and the other parts are accessors defined on the prototype below.
  toString() {
    return /** @type {any} */ (this).href;
  }
  toJSON() {
    return /** @type {any} */ (this).href;
  }
}
for (const part of URL_PARTS) {
  $defineProperty(URL.prototype, part, {
    get() {
      return urlState.get(this).parts[part];
    },
    set:
      part === 'origin'
        ? undefined
        : /** @this {URL} @param {unknown} value */ function set(value) {
            this._set(part, value);
          },
    enumerable: true,
    configurable: true,
  });
}
