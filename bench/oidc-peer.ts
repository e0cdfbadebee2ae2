// A local OpenID provider for the bench's Apache peer (npm `oidc-provider` with its development sign-in and
// consent pages), and a browser-like sign-in through it driven with fetch: follow the relying party's
// redirect to the provider, submit its login and consent forms, return to the redirect URI, keep the cookies.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BenchClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface BenchProvider {
  issuer: string;
  close(): Promise<void>;
}

/** Starts the provider on a free loopback port, knowing one confidential client. Any login name signs in. */
export async function startProvider(client: BenchClient): Promise<BenchProvider> {
  const server: Server = createServer();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' };
  // The library prints notices (runtime version, dev interactions, in-memory storage) as it loads and starts.
  const { warn, info } = console;
  console.warn = () => {};
  console.info = () => {};
  let provider: import('oidc-provider').default;
  try {
    const { default: Provider } = await import('oidc-provider');
    provider = new Provider(issuer, {
      clients: [
        {
          client_id: client.clientId,
          client_secret: client.clientSecret,
          redirect_uris: [client.redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      jwks: { keys: [jwk] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'] },
      features: { devInteractions: { enabled: true } },
      ttl: {
        AccessToken: 3600,
        AuthorizationCode: 60,
        Grant: 3600,
        IdToken: 3600,
        Interaction: 600,
        Session: 3600,
      },
      async findAccount(_ctx, id) {
        const claims = { sub: id, email: `${id}@example.com`, email_verified: true };
        return { accountId: id, claims: async () => claims };
      },
    });
  } finally {
    console.warn = warn;
    console.info = info;
  }
  server.on('request', provider.callback());
  return {
    issuer,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/** Just enough of a browser's cookie jar: per origin, by name and path, expired cookies removed. */
export class CookieJar {
  readonly #byOrigin = new Map<string, Map<string, Cookie>>();

  store(url: URL, setCookie: string[] = []): void {
    const jar = this.#byOrigin.get(url.origin) ?? new Map<string, Cookie>();
    this.#byOrigin.set(url.origin, jar);
    for (const line of setCookie) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = (key: string) =>
        attrs.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const path = attr('path') || url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/';
      const maxAge = attr('max-age');
      const expires = attr('expires');
      const gone =
        (maxAge !== undefined && Number(maxAge) <= 0) ||
        (expires !== undefined && Date.parse(expires) <= Date.now());
      if (gone) jar.delete(`${name};${path}`);
      else jar.set(`${name};${path}`, { name, value, path });
    }
  }

  header(url: URL): string {
    const jar = this.#byOrigin.get(url.origin);
    if (!jar) return '';
    const onPath = (p: string) =>
      p === '/' || url.pathname === p || url.pathname.startsWith(p.endsWith('/') ? p : `${p}/`);
    return [...jar.values()]
      .filter((c) => onPath(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  get(origin: string, name: string): string | undefined {
    return [...(this.#byOrigin.get(origin)?.values() ?? [])].find((c) => c.name === name)?.value;
  }
}

export interface Page {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One browser navigation (GET, or POST of a form), redirects not followed. Not fetch: fetch always sends
 * `Sec-Fetch-Mode: cors`, which mod_auth_openidc rightly takes for a script's call and answers 401 instead of
 * redirecting to the provider; a browser's navigation says `navigate`.
 */
export function navigate(url: URL, cookie: string, form?: Record<string, string>): Promise<Page> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const headers: Record<string, string> = {
    accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
    ...(cookie ? { cookie } : {}),
    ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
  };
  return new Promise((ok, fail) => {
    const req = request(url, { method: form ? 'POST' : 'GET', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

/**
 * Opens `start` as a browser would and signs in at the provider as `account` (any password, consent
 * granted) until `start`'s origin answers 200 itself. Returns the jar, holding the relying party's cookies.
 */
export async function signInThroughProvider(
  start: string,
  issuer: string,
  account: string,
): Promise<CookieJar> {
  const jar = new CookieJar();
  const step = async (url: URL, form?: Record<string, string>) => {
    const page = await navigate(url, jar.header(url), form);
    jar.store(url, page.headers['set-cookie']);
    return page;
  };
  const home = new URL(start).origin;
  let url = new URL(start);
  for (let hop = 0; hop < 20; hop++) {
    let page = await step(url);
    if (page.status === 200 && url.origin === home) return jar;
    if (page.status === 200 && url.origin === issuer) {
      // The provider's own page: its development login form, then its consent form.
      const prompt = /name="prompt" value="(login|consent)"/.exec(page.body)?.[1];
      const action = /<form[^>]* action="([^"]+)"/.exec(page.body)?.[1];
      if (!prompt || !action)
        throw new Error(`unexpected provider page at ${url}: ${page.body.slice(0, 200)}`);
      const form: Record<string, string> =
        prompt === 'login' ? { prompt, login: account, password: 'any' } : { prompt };
      page = await step(new URL(action.replace(/&amp;/g, '&'), url), form);
    }
    const { location } = page.headers;
    if (page.status < 300 || page.status >= 400 || !location)
      throw new Error(`sign-in stopped at ${url}: ${page.status} ${page.body.slice(0, 300)}`);
    url = new URL(location, url);
  }
  throw new Error(`sign-in through ${issuer} took more than 20 redirects`);
}
