import { createHash, randomBytes } from 'node:crypto';
import { send, type Answer } from './http.ts';

/**
 * The authorization code flow with PKCE over plain HTTP, the way a browser and a relying party run
 * it (authorize → login page → login form post → consent if asked → code → token), kept lean so
 * that the load generator costs as little CPU as possible.
 */
export interface Client {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

class Jar {
  private readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  take(response: Answer): void {
    const lines = response.headers['set-cookie'];
    for (const line of Array.isArray(lines) ? lines : lines ? [lines] : []) {
      const pair = line.slice(0, line.indexOf(';') === -1 ? line.length : line.indexOf(';'));
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), value);
    }
  }
}

async function get(url: string, jar: Jar): Promise<Answer> {
  const response = await send(url, { headers: { cookie: jar.header(), accept: 'text/html' } });
  jar.take(response);
  return response;
}

async function post(url: string, jar: Jar, form: Record<string, string>): Promise<Answer> {
  const response = await send(url, {
    method: 'POST',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams(form).toString(),
  });
  jar.take(response);
  return response;
}

/** Follows redirects until a page (returned with its text) or the client's redirect URI (returned as a URL). */
async function follow(response: Answer, base: string, jar: Jar, redirectUri: string): Promise<{ url: string; html?: string }> {
  let current = response;
  let url = base;
  for (let hops = 0; hops < 10; hops++) {
    const location = current.headers.location as string | undefined;
    if (current.status < 300 || current.status >= 400 || !location) return { url, html: current.body };
    url = new URL(location, url).href;
    if (url.startsWith(redirectUri)) return { url };
    current = await get(url, jar);
  }
  throw new Error('too many redirects');
}

function formFields(html: string, action: string): { action: string; fields: Record<string, string> } {
  const form = new RegExp(`<form[^>]*action="([^"]*${action})"[^>]*>([\\s\\S]*?)</form>`).exec(html);
  if (!form) throw new Error(`no ${action} form: ${html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields[input[1]!] = input[2]!;
  return { action: form[1]!, fields };
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  id_token: string;
}

/** One complete sign-in; throws unless tokens come back. */
export async function signInFlow(client: Client, identifier: string, password: string): Promise<Tokens> {
  const jar = new Jar();
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('base64url');
  const authorize = new URL(`${client.issuer}/auth`);
  for (const [key, value] of Object.entries({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: client.redirectUri,
    scope: 'openid email profile',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce: state,
  }))
    authorize.searchParams.set(key, value);
  let page = await follow(await get(authorize.href, jar), authorize.href, jar, client.redirectUri);
  const login = formFields(page.html!, '/login');
  page = await follow(await post(new URL(login.action, page.url).href, jar, { ...login.fields, identifier, password }), page.url, jar, client.redirectUri);
  if (page.html?.includes('/confirm"')) {
    const confirm = formFields(page.html, '/confirm');
    page = await follow(await post(new URL(confirm.action, page.url).href, jar, confirm.fields), page.url, jar, client.redirectUri);
  }
  const code = new URL(page.url).searchParams.get('code');
  if (!code) throw new Error(`no code: ${page.url} ${page.html?.match(/class="alert"[^>]*>([^<]*)/)?.[1] ?? ''}`);
  return token(client, { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier });
}

export async function token(client: Client, form: Record<string, string>): Promise<Tokens> {
  const response = await send(`${client.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams(form).toString(),
  });
  const body = JSON.parse(response.body) as Tokens & { error?: string };
  if (response.status !== 200) throw new Error(`token endpoint: ${body.error ?? response.status}`);
  return body;
}
