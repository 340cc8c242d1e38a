// @ts-check
// require('mongodb'): MongoClient, Db, Collection and cursors over the host's driver.
/** @param {Ferry} ferry the runtime's helpers (runtime/require.js) */
function mongodbModule(ferry) {
  const { call, ObjectId } = ferry;

  class FindCursor {
    /** @type {{ collection: Collection, filter: any, options: Record<string, unknown>, buffer: unknown[] | undefined }} set read-only and non-enumerable by the constructor */
    _state;
    constructor(collection, filter, options) {
      Object.defineProperty(this, '_state', {
        value: { collection, filter: filter || {}, options: { ...(options || {}) }, buffer: undefined },
        writable: false,
        enumerable: false,
        configurable: false,
      });
    }
    sort(sort, direction) {
      this._state.options.sort = typeof sort === 'string' ? { [sort]: direction === undefined ? 1 : direction } : sort;
      return this;
    }
    skip(n) {
      this._state.options.skip = n;
      return this;
    }
    limit(n) {
      this._state.options.limit = n;
      return this;
    }
    project(projection) {
      this._state.options.projection = projection;
      return this;
    }
    batchSize() {
      return this;
    }
    /** @returns {Promise<any[]>} */
    async toArray() {
      const { collection, filter, options } = this._state;
      return collection._op('find', [filter, options]);
    }
    async next() {
      const state = this._state;
      state.buffer = state.buffer || (await this.toArray());
      return state.buffer.length ? state.buffer.shift() : null;
    }
    async hasNext() {
      const state = this._state;
      state.buffer = state.buffer || (await this.toArray());
      return state.buffer.length > 0;
    }
    async forEach(fn) {
      for (const doc of await this.toArray()) if ((await fn(doc)) === false) break;
    }
    async count() {
      return this._state.collection.countDocuments(this._state.filter);
    }
    async close() {}
    [Symbol.asyncIterator]() {
      return {
        next: async () => {
          const value = await this.next();
          return value === null ? { done: true, value: undefined } : { done: false, value };
        },
      };
    }
  }

  class AggregationCursor extends FindCursor {
    /** @returns {Promise<any[]>} */
    async toArray() {
      return this._state.collection._op('aggregate', [this._state.filter, this._state.options]);
    }
  }

  class Collection {
    /** @type {Db} set read-only and non-enumerable by the constructor */
    _db;
    constructor(db, name) {
      Object.defineProperty(this, '_db', { value: db, writable: false, enumerable: false, configurable: false });
      this.collectionName = name;
    }
    get dbName() {
      return this._db.databaseName;
    }
    _op(op, args) {
      return this._db._client._call(op, [this._db.databaseName, this.collectionName, ...args]);
    }
    findOne(filter, options) {
      return this._op('findOne', [filter || {}, options || {}]);
    }
    find(filter, options) {
      return new FindCursor(this, filter, options);
    }
    aggregate(pipeline, options) {
      return new AggregationCursor(this, pipeline || [], options);
    }
    countDocuments(filter, options) {
      return this._op('countDocuments', [filter || {}, options || {}]);
    }
    estimatedDocumentCount(options) {
      return this._op('estimatedDocumentCount', [options || {}]);
    }
    distinct(key, filter, options) {
      return this._op('distinct', [key, filter || {}, options || {}]);
    }
    async insertOne(doc, options) {
      if (doc && doc._id === undefined) doc._id = new ObjectId();
      return this._op('insertOne', [doc, options || {}]);
    }
    async insertMany(docs, options) {
      for (const doc of docs || []) if (doc && doc._id === undefined) doc._id = new ObjectId();
      return this._op('insertMany', [docs, options || {}]);
    }
    updateOne(filter, update, options) {
      return this._op('updateOne', [filter, update, options || {}]);
    }
    updateMany(filter, update, options) {
      return this._op('updateMany', [filter, update, options || {}]);
    }
    replaceOne(filter, doc, options) {
      return this._op('replaceOne', [filter, doc, options || {}]);
    }
    deleteOne(filter, options) {
      return this._op('deleteOne', [filter, options || {}]);
    }
    deleteMany(filter, options) {
      return this._op('deleteMany', [filter, options || {}]);
    }
    findOneAndUpdate(filter, update, options) {
      return this._op('findOneAndUpdate', [filter, update, options || {}]);
    }
    findOneAndDelete(filter, options) {
      return this._op('findOneAndDelete', [filter, options || {}]);
    }
  }

  class Db {
    /** @type {MongoClient} set read-only and non-enumerable by the constructor */
    _client;
    constructor(client, name) {
      Object.defineProperty(this, '_client', { value: client, writable: false, enumerable: false, configurable: false });
      this.databaseName = name;
    }
    collection(name) {
      if (typeof name !== 'string' || name === '') throw new TypeError('collection name must be a non-empty string');
      return new Collection(this, name);
    }
  }

  class MongoClient {
    /** @type {{ uri: string, options: object, handle: Promise<unknown> | undefined, closed: boolean }} set read-only and non-enumerable by the constructor */
    _state;
    constructor(uri, options) {
      if (typeof uri !== 'string') throw new TypeError('The "url" argument must be of type string');
      Object.defineProperty(this, '_state', {
        value: { uri, options: options || {}, handle: undefined, closed: false },
        writable: false,
        enumerable: false,
        configurable: false,
      });
    }
    static async connect(uri, options) {
      return new MongoClient(uri, options).connect();
    }
    async connect() {
      const state = this._state;
      state.handle = state.handle || call('mongo.connect', [state.uri, state.options]);
      await state.handle;
      return this;
    }
    async _call(op, args) {
      const state = this._state;
      if (state.closed) throw Object.assign(new Error('Client must be connected before running operations'), { name: 'MongoNotConnectedError' });
      state.handle = state.handle || call('mongo.connect', [state.uri, state.options]);
      return call('mongo.op', [await state.handle, op, args]);
    }
    db(name) {
      return new Db(this, name === undefined ? undefined : String(name));
    }
    async close() {
      const state = this._state;
      state.closed = true;
      if (!state.handle) return;
      const handle = await state.handle.catch(() => undefined);
      if (handle !== undefined) await call('mongo.close', [handle]);
    }
    on() {
      return this;
    }
  }

  return { MongoClient, ObjectId, ObjectID: ObjectId };
}
