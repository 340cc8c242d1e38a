/**
 * A minimal browser over fetch: a cookie jar, manual redirects, and the forms on a page. It posts
 * the hosted pages' real forms, so tests go through exactly what a person's browser would send.
 */
export interface Page {
  url: string;
  status: number;
  html: string;
  headers: Headers;
}

export interface Form {
  action: string;
  method: string;
  fields: Record<string, string>;
}

export class Browser {
  /** Cookies by host name: like a real browser, cookies do not depend on the port. */
  private readonly cookies = new Map<string, Map<string, string>>();
  /** Every Set-Cookie header received, as sent (for checks on cookie attributes). */
  readonly setCookies: string[] = [];
  /** Sent with every request (e.g. X-Forwarded-For, to stand for another client address). */
  private readonly headers: Record<string, string>;

  constructor(headers: Record<string, string> = {}) {
    this.headers = headers;
  }

  cookieHeader(url: string): string {
    const jar = this.cookies.get(new URL(url).hostname);
    return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : '';
  }

  cookie(url: string, name: string): string | undefined {
    return this.cookies.get(new URL(url).hostname)?.get(name);
  }

  private store(url: string, response: Response): void {
    const host = new URL(url).hostname;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    this.cookies.set(host, jar);
    for (const line of response.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired =
        attributes.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()) || attributes.some((a) => /^\s*max-age=0/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  /** One request, no redirect following. */
  /** `rawForm` is sent as the form body as it is (bytes no browser would send, such as %FF). */
  async request(url: string, init: { method?: string; form?: Record<string, string>; rawForm?: string; headers?: Record<string, string> } = {}): Promise<Page> {
    const headers: Record<string, string> = { cookie: this.cookieHeader(url), accept: 'text/html', ...this.headers, ...init.headers };
    let body: string | undefined;
    if (init.form || init.rawForm !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = init.rawForm ?? new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    this.store(url, response);
    return { url, status: response.status, html: await response.text(), headers: response.headers };
  }

  /** Follows redirects until a page is not a redirect, or until `stopAt` (a URL prefix) is reached. */
  async follow(start: Page, stopAt?: string): Promise<Page> {
    let page = start;
    for (let hops = 0; hops < 20; hops++) {
      const location = page.headers.get('location');
      if (page.status < 300 || page.status >= 400 || !location) return page;
      const next = new URL(location, page.url).href;
      if (stopAt && next.startsWith(stopAt)) return { url: next, status: 0, html: '', headers: new Headers() };
      page = await this.request(next);
    }
    throw new Error('too many redirects');
  }

  async get(url: string, stopAt?: string): Promise<Page> {
    return this.follow(await this.request(url), stopAt);
  }

  /** Submits the form whose action contains `actionPart`, with `values` over its hidden fields. */
  async submit(page: Page, actionPart: string, values: Record<string, string> = {}, stopAt?: string): Promise<Page> {
    const form = findForm(page, actionPart);
    const response = await this.request(new URL(form.action, page.url).href, { method: form.method, form: { ...form.fields, ...values } });
    return this.follow(response, stopAt);
  }
}

export function findForms(page: Page): Form[] {
  const forms: Form[] = [];
  for (const match of page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attributes = match[1]!;
    const action = decode(/action="([^"]*)"/i.exec(attributes)?.[1] ?? page.url);
    const method = (/method="([^"]*)"/i.exec(attributes)?.[1] ?? 'GET').toUpperCase();
    const fields: Record<string, string> = {};
    for (const input of match[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const name = /name="([^"]*)"/i.exec(input[1]!)?.[1];
      const value = /value="([^"]*)"/i.exec(input[1]!)?.[1] ?? '';
      if (name) fields[name] = decode(value);
    }
    forms.push({ action, method, fields });
  }
  return forms;
}

export function findForm(page: Page, actionPart: string): Form {
  const form = findForms(page).find((candidate) => candidate.action.includes(actionPart));
  if (!form) throw new Error(`no form with action containing "${actionPart}" on ${page.url} (status ${page.status}):\n${page.html.slice(0, 2000)}`);
  return form;
}

/** The text of the page's alert, if any. */
export function alertText(page: Page): string | undefined {
  const match = /<p class="alert"[^>]*>([\s\S]*?)<\/p>/.exec(page.html);
  return match ? decode(match[1]!.trim()) : undefined;
}

function decode(text: string): string {
  return text
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
