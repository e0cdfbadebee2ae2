// A small HTTP client that behaves like a browser where the auth pages care: a cookie jar, an Origin header on
// posts, Accept: text/html, and forms filled from the page's own CSRF field. Real requests over TCP.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  setCookies: string[];
  body: string;
  location: string | undefined;
}

export function send(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          setCookies: res.headers['set-cookie'] ?? [],
          body: Buffer.concat(chunks).toString('utf8'),
          location: res.headers.location,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const csrfIn = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';

export class BrowserClient {
  readonly base: string;
  readonly jar = new Map<string, string>();
  headers: Record<string, string>;

  constructor(base: string, headers: Record<string, string> = {}) {
    this.base = base;
    this.headers = { accept: 'text/html,application/xhtml+xml', 'user-agent': 'TestBrowser/1.0', ...headers };
  }

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  #store(res: Response): Response {
    for (const c of res.setCookies) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (/max-age=0/i.test(c) || pair.slice(eq + 1) === '') this.jar.delete(name);
      else this.jar.set(name, pair.slice(eq + 1));
    }
    return res;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const cookie = this.cookieHeader();
    return this.#store(
      await send(this.base + path, {
        headers: { ...this.headers, ...(cookie ? { cookie } : {}), ...headers },
      }),
    );
  }

  async post(
    path: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const cookie = this.cookieHeader();
    return this.#store(
      await send(this.base + path, {
        method: 'POST',
        headers: {
          ...this.headers,
          origin: new URL(this.base).origin,
          'content-type': 'application/x-www-form-urlencoded',
          ...(cookie ? { cookie } : {}),
          ...headers,
        },
        body: new URLSearchParams(form).toString(),
      }),
    );
  }

  /** Loads `page`, then posts its form with the page's CSRF token plus `fields`. */
  async submit(
    page: string,
    action: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const form = await this.get(page);
    return this.post(action, { csrf: csrfIn(form.body), ...fields }, headers);
  }

  signIn(username: string, password: string, returnTo?: string, headers: Record<string, string> = {}) {
    return this.submit(
      '/auth/login',
      '/auth/login',
      { username, password, ...(returnTo === undefined ? {} : { return_to: returnTo }) },
      headers,
    );
  }
}
