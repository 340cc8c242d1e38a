// @ts-check
// require('mssql'): connection pools and requests over the host's mssql (tedious).
/** @param {Ferry} ferry the runtime's helpers (runtime/require.js) */
function mssqlModule(ferry) {
  const { call } = ferry;
  const TYPE = '__mssqlType';
  const TYPE_NAMES = [
    'VarChar',
    'NVarChar',
    'Text',
    'NText',
    'Char',
    'NChar',
    'Int',
    'BigInt',
    'SmallInt',
    'TinyInt',
    'Bit',
    'Float',
    'Real',
    'Decimal',
    'Numeric',
    'Money',
    'SmallMoney',
    'DateTime',
    'DateTime2',
    'SmallDateTime',
    'Date',
    'Time',
    'DateTimeOffset',
    'UniqueIdentifier',
    'VarBinary',
    'Binary',
    'Image',
    'Xml',
    'Variant',
  ];

  const sql = {};
  for (const name of TYPE_NAMES) {
    const type = (...args) => ({ [TYPE]: name, args });
    type[TYPE] = name;
    sql[name] = type;
  }
  sql.TYPES = { ...sql };
  sql.MAX = 65535;

  function describeType(type) {
    if (type && typeof type === 'object' && typeof type[TYPE] === 'string') return { name: type[TYPE], args: type.args || [] };
    if (typeof type === 'function' && typeof type[TYPE] === 'string') return { name: type[TYPE], args: [] };
    return undefined;
  }

  class Request {
    /** @type {{ pool: ConnectionPool | undefined, inputs: object[], outputs: object[] }} set read-only and non-enumerable by the constructor */
    _state;
    constructor(pool) {
      Object.defineProperty(this, '_state', {
        value: { pool: pool instanceof ConnectionPool ? pool : undefined, inputs: [], outputs: [] },
        writable: false,
        enumerable: false,
        configurable: false,
      });
    }
    input(name, typeOrValue, ...rest) {
      const value = rest[0];
      const type = describeType(typeOrValue);
      this._state.inputs.push({ name: String(name), type, value: type || rest.length > 0 ? value : typeOrValue });
      return this;
    }
    output(name, type, value) {
      this._state.outputs.push({ name: String(name), type: describeType(type), value });
      return this;
    }
    /** @param {OpName} op */
    async _run(op, text) {
      const state = this._state;
      const pool = state.pool || globalPool;
      if (!pool) throw Object.assign(new Error('No connection is specified for that request.'), { code: 'ENOCONN' });
      const handle = await pool._handle();
      return call(op, [handle, text, state.inputs, state.outputs]);
    }
    /** @param {any} command a text, or a template's strings (with `raw`) */
    query(command, ...values) {
      if (Array.isArray(command) && /** @type {any} */ (command).raw) return this._run('mssql.query', templateToText(this, command, values));
      return this._run('mssql.query', String(command));
    }
    execute(procedure) {
      return this._run('mssql.execute', String(procedure));
    }
  }

  function templateToText(request, strings, values) {
    let text = strings[0];
    values.forEach((value, index) => {
      request.input(`param${index + 1}`, value);
      text += `@param${index + 1}${strings[index + 1]}`;
    });
    return text;
  }

  class ConnectionPool {
    /** @type {{ config: Record<string, unknown>, handle: Promise<unknown> | undefined }} set read-only and non-enumerable by the constructor */
    _state;
    constructor(config) {
      Object.defineProperty(this, '_state', {
        value: { config: typeof config === 'string' ? { connectionString: config } : { ...config }, handle: undefined },
        writable: false,
        enumerable: false,
        configurable: false,
      });
    }
    _handle() {
      const state = this._state;
      if (!state.handle) return Promise.reject(Object.assign(new Error('Connection not yet open.'), { code: 'ENOTOPEN' }));
      return state.handle;
    }
    async connect() {
      const state = this._state;
      state.handle = state.handle || call('mssql.connect', [state.config]);
      await state.handle;
      return this;
    }
    get connected() {
      return Boolean(this._state.handle);
    }
    request() {
      return new Request(this);
    }
    query(command, ...values) {
      return this.request().query(command, ...values);
    }
    async close() {
      const state = this._state;
      if (!state.handle) return;
      const handle = await state.handle.catch(() => undefined);
      state.handle = undefined;
      if (handle !== undefined) await call('mssql.close', [handle]);
    }
    on() {
      return this;
    }
  }

  let globalPool;
  sql.ConnectionPool = ConnectionPool;
  sql.Request = Request;
  sql.connect = async (config) => {
    if (!globalPool) globalPool = new ConnectionPool(config);
    return globalPool.connect();
  };
  sql.query = (command, ...values) => new Request().query(command, ...values);
  sql.close = async () => {
    const pool = globalPool;
    globalPool = undefined;
    if (pool) await pool.close();
  };
  sql.on = () => sql;
  return sql;
}
