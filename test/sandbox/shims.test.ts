import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { createSandbox } from '../../src/sandbox/index.ts';

describe('the axios shim behaves as axios does', () => {
  const sandbox = createSandbox({ log: createLogger({ level: 'silent' }), poolSize: 2 });
  const server = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ method: request.method, path: request.url, authorization: request.headers.authorization, app: request.headers['x-app'], post: request.headers['x-post'] }));
  });
  let base = '';

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await sandbox.close();
    server.close();
  });

  it('applies axios.defaults changed after require, with common and per-method headers, and instances made by create()', async () => {
    const outcome = await sandbox.run({
      name: 'main',
      args: [base],
      source: `async function main(base) {
        const axios = require('axios');
        axios.defaults.baseURL = base;
        axios.defaults.headers.common['Authorization'] = 'Bearer t1';
        axios.defaults.headers.post['X-Post'] = 'only for POST';
        const plain = (await axios.get('/a')).data;
        const posted = (await axios.post('/b', { q: 1 }, { headers: { 'X-App': 'call' } })).data;
        const instance = axios.create({ headers: { 'X-App': 'instance' } });
        instance.interceptors.request.use((config) => ({ ...config, url: config.url + '?intercepted=1' }));
        const fromInstance = (await instance.get('/c')).data;
        return { plain, posted, fromInstance };
      }`,
    });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.deepEqual(outcome.value, {
      plain: { method: 'GET', path: '/a', authorization: 'Bearer t1' },
      posted: { method: 'POST', path: '/b', authorization: 'Bearer t1', app: 'call', post: 'only for POST' },
      fromInstance: { method: 'GET', path: '/c?intercepted=1', authorization: 'Bearer t1', app: 'instance' },
    });
  });
});
