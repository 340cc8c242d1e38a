// @ts-check
// require('pg'): Client and Pool over the host's node-postgres.
/** @param {Ferry} ferry the runtime's helpers (runtime/require.js) */
function pgModule(ferry) {
  const { call, withCallback } = ferry;
  const CONFIG_KEYS = [
    'connectionString',
    'host',
    'port',
    'user',
    'password',
    'database',
    'ssl',
    'connectionTimeoutMillis',
    'statement_timeout',
    'query_timeout',
    'application_name',
    'max',
    'idleTimeoutMillis',
    'keepAlive',
    'options',
  ];

  function connectionConfig(config) {
    if (typeof config === 'string') return { connectionString: config };
    const out = {};
    for (const key of CONFIG_KEYS) if (config && config[key] !== undefined) out[key] = config[key];
    return out;
  }

  /** query(text), query(text, values), query(text, cb), query(text, values, cb), query({ text, values, rowMode }). */
  function queryArgs(textOrConfig, values, callback) {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    const query = typeof textOrConfig === 'string' ? { text: textOrConfig } : { ...textOrConfig };
    if (typeof query.text !== 'string') throw new TypeError('Client was passed a null or undefined query');
    if (values !== undefined) query.values = values;
    if (typeof query.callback === 'function' && !callback) callback = query.callback;
    return [{ text: query.text, values: query.values === undefined ? [] : query.values, rowMode: query.rowMode === 'array' ? 'array' : undefined }, callback];
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
    removeAllListeners() {
      return this;
    }
  }

  class Client extends EventStub {
    /** @type {{ config: Record<string, unknown>, handle: unknown, connecting: Promise<Client> | undefined, ended: boolean }} set read-only and non-enumerable by the constructor */
    _state;
    constructor(config = {}) {
      super();
      Object.defineProperty(this, '_state', {
        value: { config: connectionConfig(config), handle: undefined, connecting: undefined, ended: false },
        writable: false,
        enumerable: false,
        configurable: false,
      });
    }
    connect(callback) {
      const state = this._state;
      if (!state.connecting) {
        state.connecting = call('pg.connect', [state.config]).then((handle) => {
          state.handle = handle;
          return this;
        });
      }
      return withCallback(
        state.connecting.then(() => undefined),
        callback,
      );
    }
    query(textOrConfig, values, callback) {
      const [query, cb] = queryArgs(textOrConfig, values, callback);
      const state = this._state;
      const run = async () => {
        if (state.ended) throw new Error('Client was closed and is not queryable');
        if (!state.connecting) throw new Error('Client is not connected: call client.connect() first');
        await state.connecting;
        return call('pg.query', [state.handle, query]);
      };
      return withCallback(run(), cb);
    }
    end(callback) {
      const state = this._state;
      state.ended = true;
      const run = async () => {
        if (!state.connecting) return;
        const handle = await state.connecting.then(
          () => state.handle,
          () => undefined,
        );
        if (handle !== undefined) await call('pg.end', [handle]);
      };
      return withCallback(run(), callback);
    }
    escapeIdentifier(text) {
      return `"${String(text).replace(/"/g, '""')}"`;
    }
    escapeLiteral(text) {
      const value = String(text);
      const escaped = value.replace(/'/g, "''");
      return value.includes('\\') ? ` E'${escaped.replace(/\\/g, '\\\\')}'` : `'${escaped}'`;
    }
  }

  class PoolClient extends EventStub {
    /** @type {{ handle: unknown, released: boolean }} set read-only and non-enumerable by the constructor */
    _state;
    constructor(handle) {
      super();
      Object.defineProperty(this, '_state', { value: { handle, released: false }, writable: false, enumerable: false, configurable: false });
    }
    query(textOrConfig, values, callback) {
      const [query, cb] = queryArgs(textOrConfig, values, callback);
      if (this._state.released) return withCallback(Promise.reject(new Error('Client was released and is not queryable')), cb);
      return withCallback(call('pg.query', [this._state.handle, query]), cb);
    }
    release() {
      if (this._state.released) throw new Error('Release called on client which has already been released to the pool.');
      this._state.released = true;
      call('pg.release', [this._state.handle]).catch(() => {});
    }
  }

  class Pool extends EventStub {
    /** @type {{ config: Record<string, unknown>, handle: Promise<unknown> | undefined, ended: boolean }} set read-only and non-enumerable by the constructor */
    _state;
    constructor(config = {}) {
      super();
      Object.defineProperty(this, '_state', {
        value: { config: connectionConfig(config), handle: undefined, ended: false },
        writable: false,
        enumerable: false,
        configurable: false,
      });
    }
    _handle() {
      const state = this._state;
      if (state.ended) return Promise.reject(new Error('Cannot use a pool after calling end on the pool'));
      state.handle = state.handle || call('pg.pool', [state.config]);
      return state.handle;
    }
    query(textOrConfig, values, callback) {
      const [query, cb] = queryArgs(textOrConfig, values, callback);
      return withCallback(
        this._handle().then((handle) => call('pg.poolQuery', [handle, query])),
        cb,
      );
    }
    connect(callback) {
      const result = this._handle()
        .then((handle) => call('pg.poolConnect', [handle]))
        .then((handle) => {
          const client = new PoolClient(handle);
          return client;
        });
      if (typeof callback !== 'function') return result;
      result.then(
        (client) => ferry.runCallback(callback, null, client, () => client.release()),
        (error) => ferry.runCallback(callback, error),
      );
      return undefined;
    }
    end(callback) {
      const state = this._state;
      state.ended = true;
      const run = async () => {
        if (!state.handle) return;
        const handle = await state.handle.catch(() => undefined);
        if (handle !== undefined) await call('pg.poolEnd', [handle]);
      };
      return withCallback(run(), callback);
    }
    get totalCount() {
      return 0;
    }
    get idleCount() {
      return 0;
    }
    get waitingCount() {
      return 0;
    }
  }

  const types = {
    setTypeParser() {},
    getTypeParser() {
      return (value) => value;
    },
    builtins: {
      BOOL: 16,
      BYTEA: 17,
      INT8: 20,
      INT2: 21,
      INT4: 23,
      TEXT: 25,
      JSON: 114,
      FLOAT4: 700,
      FLOAT8: 701,
      VARCHAR: 1043,
      DATE: 1082,
      TIMESTAMP: 1114,
      TIMESTAMPTZ: 1184,
      NUMERIC: 1700,
      UUID: 2950,
      JSONB: 3802,
    },
  };
  return { Client, Pool, types, defaults: {}, native: null };
}
