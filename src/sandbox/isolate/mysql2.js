// @ts-check
// require('mysql2') and require('mysql2/promise'): connections and pools over the host's mysql2.
/** @param {Ferry} ferry the runtime's helpers (runtime/require.js) */
function mysql2Module(ferry, promiseApi) {
  const { call, withCallback } = ferry;
  const CONFIG_KEYS = [
    'uri',
    'host',
    'port',
    'user',
    'password',
    'database',
    'charset',
    'timezone',
    'connectTimeout',
    'ssl',
    'dateStrings',
    'supportBigNumbers',
    'bigNumberStrings',
    'decimalNumbers',
    'multipleStatements',
    'namedPlaceholders',
    'connectionLimit',
    'queueLimit',
    'waitForConnections',
    'typeCast',
  ];

  function connectionConfig(config) {
    if (typeof config === 'string') return { uri: config };
    const out = {};
    for (const key of CONFIG_KEYS) if (config && config[key] !== undefined && typeof config[key] !== 'function') out[key] = config[key];
    return out;
  }

  /** query(sql), query(sql, values), query(sql, cb), query(sql, values, cb), query({ sql, values, rowsAsArray }). */
  function queryArgs(sqlOrOptions, values, callback) {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    const options = typeof sqlOrOptions === 'string' ? { sql: sqlOrOptions } : { ...sqlOrOptions };
    if (typeof options.sql !== 'string') throw new TypeError('You must provide a query string (sql).');
    if (values !== undefined) options.values = values;
    return [{ sql: options.sql, values: options.values, rowsAsArray: options.rowsAsArray === true, nestTables: options.nestTables }, callback];
  }

  function escape(value) {
    if (value === undefined || value === null) return 'NULL';
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (typeof value === 'number' || typeof value === 'bigint') return String(value);
    if (value instanceof Date) return escape(value.toISOString().slice(0, 23).replace('T', ' '));
    if (value instanceof Uint8Array) return `X'${ferry.Buffer.from(value).toString('hex')}'`;
    if (Array.isArray(value)) return value.map((item) => (Array.isArray(item) ? `(${item.map(escape).join(', ')})` : escape(item))).join(', ');
    if (typeof value === 'object')
      return Object.keys(value)
        .map((key) => `${escapeId(key)} = ${escape(value[key])}`)
        .join(', ');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: mysql's own escaping of control characters
    return `'${String(value).replace(/[\0\b\t\n\r\x1a"'\\]/g, (c) => ({ '\0': '\\0', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z' })[c] || `\\${c}`)}'`;
  }
  function escapeId(value) {
    if (Array.isArray(value)) return value.map(escapeId).join(', ');
    return String(value)
      .split('.')
      .map((part) => `\`${part.replace(/`/g, '``')}\``)
      .join('.');
  }
  function format(sql, values) {
    if (values === undefined || values === null) return sql;
    const list = Array.isArray(values) ? values : [values];
    let index = 0;
    return sql.replace(/\?\??/g, (match) => (index >= list.length ? match : match === '??' ? escapeId(list[index++]) : escape(list[index++])));
  }

  class EventStub {
    on() {
      return this;
    }
    once() {
      return this;
    }
    off() {
      return this;
    }
    removeListener() {
      return this;
    }
  }

  /** Shared by connections and pools: a host handle created on first use. */
  class Handle extends EventStub {
    /** @type {{ open: () => Promise<unknown>, handle: Promise<unknown> | undefined, closed: boolean }} set read-only and non-enumerable by the constructor */
    _state;
    constructor(open) {
      super();
      Object.defineProperty(this, '_state', { value: { open, handle: undefined, closed: false }, writable: false, enumerable: false, configurable: false });
    }
    _handle() {
      const state = this._state;
      if (state.closed)
        return Promise.reject(Object.assign(new Error("Can't add new command when connection is in closed state"), { code: 'PROTOCOL_ENQUEUE_AFTER_QUIT' }));
      state.handle = state.handle || state.open();
      return state.handle;
    }
    /**
     * @param {OpName} op
     * @param {unknown} sqlOrOptions
     * @param {unknown} [values]
     */
    _run(op, sqlOrOptions, values) {
      const [query] = queryArgs(sqlOrOptions, values);
      return this._handle().then((handle) => call(op, [handle, query]));
    }
    /** @param {OpName} op */
    _close(op) {
      const state = this._state;
      state.closed = true;
      if (!state.handle) return Promise.resolve();
      return state.handle.then(
        (handle) => call(op, [handle]),
        () => undefined,
      );
    }
  }

  class PromiseConnection extends Handle {
    query(sql, values) {
      return this._run('mysql.query', sql, values);
    }
    execute(sql, values) {
      return this._run('mysql.execute', sql, values);
    }
    end() {
      return this._close('mysql.end');
    }
    destroy() {
      this._close('mysql.end').catch(() => {});
    }
    close() {
      return this.end();
    }
    ping() {
      return this._run('mysql.query', 'SELECT 1').then(() => undefined);
    }
    beginTransaction() {
      return this._run('mysql.query', 'START TRANSACTION').then(() => undefined);
    }
    commit() {
      return this._run('mysql.query', 'COMMIT').then(() => undefined);
    }
    rollback() {
      return this._run('mysql.query', 'ROLLBACK').then(() => undefined);
    }
    release() {
      this._close('mysql.release').catch(() => {});
    }
    escape(value) {
      return escape(value);
    }
    escapeId(value) {
      return escapeId(value);
    }
    format(sql, values) {
      return format(sql, values);
    }
  }

  class PromisePool extends Handle {
    query(sql, values) {
      return this._run('mysql.poolQuery', sql, values);
    }
    execute(sql, values) {
      return this._run('mysql.poolExecute', sql, values);
    }
    getConnection() {
      return this._handle()
        .then((pool) => call('mysql.poolConnection', [pool]))
        .then((handle) => new PromiseConnection(() => Promise.resolve(handle)));
    }
    end() {
      return this._close('mysql.poolEnd');
    }
    escape(value) {
      return escape(value);
    }
    escapeId(value) {
      return escapeId(value);
    }
    format(sql, values) {
      return format(sql, values);
    }
  }

  /** The callback API wraps the promise one; `.promise()` returns it. */
  function callbackConnection(inner) {
    const connection = new EventStub();
    const method = (name, spread) => (sql, values, callback) => {
      if (typeof values === 'function') {
        callback = values;
        values = undefined;
      }
      return withCallback(inner[name](sql, values), callback, spread);
    };
    Object.assign(connection, {
      connect: (callback) =>
        withCallback(
          inner._handle().then(() => undefined),
          callback,
        ),
      query: method('query', true),
      execute: method('execute', true),
      end: (callback) => withCallback(inner.end(), callback),
      destroy: () => inner.destroy(),
      ping: (callback) => withCallback(inner.ping(), callback),
      beginTransaction: (callback) => withCallback(inner.beginTransaction(), callback),
      commit: (callback) => withCallback(inner.commit(), callback),
      rollback: (callback) => withCallback(inner.rollback(), callback),
      release: () => inner.release(),
      promise: () => inner,
      escape,
      escapeId,
      format,
    });
    return connection;
  }

  function callbackPool(inner) {
    const pool = new EventStub();
    const method = (name) => (sql, values, callback) => {
      if (typeof values === 'function') {
        callback = values;
        values = undefined;
      }
      return withCallback(inner[name](sql, values), callback, true);
    };
    Object.assign(pool, {
      query: method('query'),
      execute: method('execute'),
      getConnection: (callback) => withCallback(inner.getConnection().then(callbackConnection), callback),
      end: (callback) => withCallback(inner.end(), callback),
      promise: () => inner,
      escape,
      escapeId,
      format,
    });
    return pool;
  }

  const openConnection = (config) => new PromiseConnection(() => call('mysql.connect', [connectionConfig(config)]));
  const openPool = (config) => new PromisePool(() => call('mysql.pool', [connectionConfig(config)]));

  if (promiseApi) {
    return {
      createConnection: async (config) => {
        const connection = openConnection(config);
        await connection._handle();
        return connection;
      },
      createPool: (config) => openPool(config),
      escape,
      escapeId,
      format,
    };
  }
  return {
    createConnection: (config) => callbackConnection(openConnection(config)),
    createPool: (config) => callbackPool(openPool(config)),
    escape,
    escapeId,
    format,
  };
}
