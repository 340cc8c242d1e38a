import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { createHarness, listen, valueOf, type Harness } from './attack-harness.ts';

/** A script that requests each URL with axios and reports `url → status or error code`. */
const REQUEST_EACH = `async function main(urls) {
  const axios = require('axios');
  const out = [];
  for (const url of urls) {
    try { const response = await axios.get(url, { timeout: 2000 }); out.push([url, 'status ' + response.status]); } catch (error) { out.push([url, error.code || error.message]); }
  }
  return out;
}`;

/**
 * Outbound HTTP from scripts: cloud metadata and link-local addresses in every spelling, Ferry's
 * own port on every local address, redirects towards either, and hostile servers.
 */
describe('outbound HTTP attacks', () => {
  let harness: Harness;
  let ferry: Server;
  let ferryPort: number;
  let ferryHits = 0;
  let api: Server;
  let apiPort: number;

  before(async () => {
    // Stands in for Ferry itself, on every address (IPv4 and IPv6), counting whatever reaches it.
    ferry = createServer((_request, response) => {
      ferryHits += 1;
      response.end('ferry');
    });
    await new Promise<void>((resolve) => ferry.listen(0, '::', resolve));
    ferryPort = (ferry.address() as AddressInfo).port;
    harness = await createHarness({ ferryPort: () => ferryPort });
    api = createServer((request, response) => {
      const url = request.url ?? '/';
      const redirect = (status: number, location: string) => response.writeHead(status, { location }).end();
      if (url === '/to-metadata') return redirect(302, 'http://169.254.169.254/latest/meta-data/');
      if (url === '/to-metadata-v6') return redirect(307, 'http://[::ffff:169.254.169.254]/');
      if (url === '/to-ferry') return redirect(302, `http://127.0.0.1:${ferryPort}/admin`);
      if (url === '/to-ferry-v6') return redirect(301, `http://[::1]:${ferryPort}/`);
      if (url === '/to-ferry-twice') return redirect(302, '/to-ferry');
      if (url === '/to-file') return redirect(302, 'file:///etc/passwd');
      if (url === '/loop') return redirect(302, '/loop');
      if (url === '/big') return response.end(Buffer.alloc(2 * 1024 * 1024, 'x'));
      if (url === '/slow') return; // never answers
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ ok: true }));
    });
    apiPort = await listen(api);
  });

  after(async () => {
    await harness.close();
    api.closeAllConnections();
    await new Promise((resolve) => api.close(resolve));
    await new Promise((resolve) => ferry.close(resolve));
  });

  test('cloud metadata and link-local addresses are refused in every spelling', async () => {
    const urls = [
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[0:0:0:0:0:ffff:169.254.169.254]/',
      'http://2852039166/',
      'http://0xa9.0xfe.0xa9.0xfe/',
      'http://0251.0376.0251.0376/',
      'http://169.254.169.254./',
      'http://169.254.1.1:8080/',
      'http://[::169.254.169.254]/',
      'http://[64:ff9b::a9fe:a9fe]/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'http://100.100.100.200/',
      'http://168.63.129.16/',
      'http://0.0.0.0/',
      'http://[::]/',
    ];
    const outcome = await harness.attack(REQUEST_EACH, { expect: true, args: [urls] });
    for (const [url, result] of valueOf<[string, string][]>(outcome)) assert.equal(result, 'ERR_FERRY_EGRESS_DENIED', url);
  });

  test("Ferry's own port is refused on every local address, and nothing reaches it", async () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .filter((item) => item && !item.address.startsWith('fe80'))
      .map((item) => (item!.family === 'IPv6' ? `[${item!.address}]` : item!.address));
    const hosts = [
      '127.0.0.1',
      '127.0.0.2',
      '127.255.255.254',
      'localhost',
      '[::1]',
      '[0:0:0:0:0:0:0:1]',
      '[::ffff:127.0.0.1]',
      '[::ffff:7f00:2]',
      '[::127.0.0.1]',
      '[64:ff9b::7f00:1]',
      '2130706433',
      '0x7f000001',
      '127.1',
      ...own,
    ];
    const before = ferryHits;
    const outcome = await harness.attack(REQUEST_EACH, { expect: true, args: [hosts.map((host) => `http://${host}:${ferryPort}/admin`)] });
    for (const [url, result] of valueOf<[string, string][]>(outcome)) assert.equal(result, 'ERR_FERRY_EGRESS_DENIED', url);
    assert.equal(ferryHits, before, 'no request reached the Ferry stand-in');
    const other = await harness.attack(REQUEST_EACH, { expect: true, args: [[`http://127.0.0.1:${apiPort}/ok`, `http://localhost:${apiPort}/ok`]] });
    assert.deepEqual(
      valueOf<[string, string][]>(other).map(([, result]) => result),
      ['status 200', 'status 200'],
      'other local ports stay reachable',
    );
  });

  test('redirects towards metadata addresses, Ferry, or other protocols are refused, and a redirect loop ends', async () => {
    const before = ferryHits;
    const base = `http://127.0.0.1:${apiPort}`;
    const outcome = await harness.attack(REQUEST_EACH, {
      expect: true,
      args: [['/to-metadata', '/to-metadata-v6', '/to-ferry', '/to-ferry-v6', '/to-ferry-twice', '/to-file', '/loop'].map((path) => base + path)],
    });
    const results = Object.fromEntries(valueOf<[string, string][]>(outcome).map(([url, result]) => [url.slice(base.length), result]));
    assert.deepEqual(results, {
      '/to-metadata': 'ERR_FERRY_EGRESS_DENIED',
      '/to-metadata-v6': 'ERR_FERRY_EGRESS_DENIED',
      '/to-ferry': 'ERR_FERRY_EGRESS_DENIED',
      '/to-ferry-v6': 'ERR_FERRY_EGRESS_DENIED',
      '/to-ferry-twice': 'ERR_FERRY_EGRESS_DENIED',
      '/to-file': 'ERR_BAD_REQUEST',
      '/loop': 'ERR_BAD_REQUEST',
    });
    assert.equal(ferryHits, before, 'no redirect reached the Ferry stand-in');
  });

  test('with an allowlist only listed host names, addresses and ranges are called; anything else is refused before connecting', async () => {
    // Listens on every address, so that a request to an unlisted loopback address would reach it if it were let through.
    let hits = 0;
    const open = createServer((_request, response) => {
      hits += 1;
      response.end('open');
    });
    await new Promise<void>((resolve) => open.listen(0, '::', resolve));
    const port = (open.address() as AddressInfo).port;
    /** Requests each host on that server's port under `allowlist`: host → 'status 200' or the error code. */
    const requestEach = async (allow: string[], hosts: string[]) => {
      const outcome = await harness.attack(REQUEST_EACH, { expect: true, args: [hosts.map((host) => `http://${host}:${port}/`)], egress: { allow } });
      return Object.fromEntries(valueOf<[string, string][]>(outcome).map(([url, result]) => [new URL(url).hostname, result]));
    };
    const denied = 'ERR_FERRY_EGRESS_DENIED';
    try {
      assert.deepEqual(
        await requestEach([], ['127.0.0.1', '127.0.0.2', 'localhost']),
        { '127.0.0.1': 'status 200', '127.0.0.2': 'status 200', localhost: 'status 200' },
        'without an allowlist every loopback address answers',
      );
      const before = hits;
      assert.deepEqual(await requestEach(['127.0.0.1'], ['127.0.0.1', '127.0.0.2']), { '127.0.0.1': 'status 200', '127.0.0.2': denied }, 'a listed address');
      assert.deepEqual(
        await requestEach(['LocalHost'], ['localhost', '127.0.0.1']),
        { localhost: 'status 200', '127.0.0.1': denied },
        'a listed host name, in any case, and not its address',
      );
      assert.deepEqual(await requestEach(['127.0.0.0/31'], ['127.0.0.1', '127.0.0.2']), { '127.0.0.1': 'status 200', '127.0.0.2': denied }, 'a listed range');
      assert.deepEqual(await requestEach(['*.localhost', 'api.example.com'], ['localhost']), { localhost: denied }, 'a suffix does not match the bare name');
      assert.equal(hits - before, 3, 'only the allowed requests reached the server');
    } finally {
      open.closeAllConnections();
      await new Promise((resolve) => open.close(resolve));
    }
  });

  test('other protocols and malformed URLs are refused', async () => {
    const outcome = await harness.attack(REQUEST_EACH, {
      expect: true,
      args: [['file:///etc/passwd', 'ftp://127.0.0.1/', 'data:text/plain,x', 'gopher://127.0.0.1:6379/_INFO', 'http://', 'not a url']],
    });
    for (const [url, result] of valueOf<[string, string][]>(outcome)) assert.match(result, /^(ERR_BAD_REQUEST|ERR_INVALID_URL)$/, url);
  });

  test('a response over maxHttpResponseKb ends the execution as limit, and a server that never answers is bounded by the deadline', async () => {
    const big = await harness.attack(REQUEST_EACH, { expect: 'limit', args: [[`http://127.0.0.1:${apiPort}/big`]], limits: { maxHttpResponseKb: 512 } });
    assert.match(big.ok ? '' : big.message, /connection\.limits\.maxHttpResponseKb/, 'the script caught the error, and the execution still ends as limit');
    const slow = await harness.attack(`async function main(url) { return require('axios').get(url); }`, {
      expect: ['timeout', 'script_error', 'unavailable'],
      args: [`http://127.0.0.1:${apiPort}/slow`],
    });
    assert.ok(slow.durationMs < 1500, `${slow.durationMs} ms`);
  });

  test('header injection and hostile request options are contained', async () => {
    const outcome = await harness.attack(
      `async function main(base) {
        const axios = require('axios');
        const out = [];
        const attempt = async (name, run) => { try { await run(); out.push(name + ': sent'); } catch (error) { out.push(name + ': ' + (error.code || error.message)); } };
        await attempt('crlf header', () => axios.get(base + '/ok', { headers: { 'x-a': 'a\\r\\nHost: 169.254.169.254' } }));
        await attempt('crlf name', () => axios.get(base + '/ok', { headers: { 'x-a\\r\\nx-b': 'b' } }));
        await attempt('host header', () => axios.get(base + '/ok', { headers: { Host: '169.254.169.254' } }));
        await attempt('method', () => axios.request({ url: base + '/ok', method: 'CONNECT' }));
        await attempt('huge redirects', () => axios.get(base + '/loop', { maxRedirects: 1e9, timeout: 300 }));
        await attempt('negative timeout', () => axios.get(base + '/ok', { timeout: -1 }));
        return out;
      }`,
      // Under load the 300 ms request can time out first: then the deadline counts as the server's (unavailable).
      { expect: ['ok', 'timeout', 'unavailable'], args: [`http://127.0.0.1:${apiPort}`] },
    );
    if (outcome.ok) assert.equal(valueOf<string[]>(outcome).length, 6);
  });
});
