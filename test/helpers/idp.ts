// A real OpenID provider for the tests: npm `oidc-provider` on a local port, with its development sign-in pages
// (any password is accepted for a known account), consent granted up front, back-channel logout and
// RP-initiated logout enabled. Requests wait until `configure()` names the clients (their redirect URIs
// contain the gateway's port, known only after the gateway started).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { BrowserClient, type Response } from './browser-client.ts';

export type AccountClaims = Record<string, unknown>;

export interface TestIdp {
  issuer: string;
  port: number;
  /** Claims of each account, by account id (the `sub`); change them between sign-ins. */
  accounts: Map<string, AccountClaims>;
  /** The `amr` the provider states in the ID token of each account's next sign-ins (none when absent). */
  amr: Map<string, string[]>;
  /**
   * Starts answering, for these clients. `anyName`: a name not in `accounts` signs in too, as
   * `<name>@example.com` (confirmed) in the group "demo" — the demo's provider.
   */
  configure(
    clients: ClientMetadata[],
    opts?: { idTokenHasClaims?: boolean; anyName?: boolean },
  ): Promise<void>;
  /** Back-channel logout calls the provider made, and how each ended ('ok' or the error). */
  backchannel: string[];
  /** Signs a JWT with the provider's own key (for logout tokens the provider would send). */
  sign(payload: Record<string, unknown>, typ?: string): Promise<string>;
  readonly provider: Provider;
  close(): Promise<void>;
}

export const CLIENT_SECRET = 'a-test-client-secret-of-some-length';

/** An `[[oidc]]` entry for a provider of these tests; more keys of the entry may follow it. */
export function providerToml(id: string, name: string, issuer: string): string {
  return `[[oidc]]\nid = "${id}"\nname = "${name}"\nissuer = "${issuer}"\nclient_id = "hero-gateway"\nclient_secret = "${CLIENT_SECRET}"\n`;
}

/** The path and query of a URL on the gateway, for the test clients that take paths. */
export function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** A client of the gateway under test, registered with everything the gateway's flows need. */
export function gatewayClient(
  gatewayUrl: string,
  providerId: string,
  extra: Partial<ClientMetadata> = {},
): ClientMetadata {
  return {
    client_id: 'hero-gateway',
    client_secret: CLIENT_SECRET,
    redirect_uris: [`${gatewayUrl}/auth/oauth/${providerId}/callback`],
    post_logout_redirect_uris: [`${gatewayUrl}/auth/login?done=logout`],
    backchannel_logout_uri: `${gatewayUrl}/auth/oauth/${providerId}/backchannel-logout`,
    backchannel_logout_session_required: true,
    grant_types: ['authorization_code', 'refresh_token'],
    ...extra,
  };
}

function anyNameClaims(id: string): AccountClaims {
  const name = id.toLowerCase().replace(/[^a-z0-9._-]/g, '') || 'someone';
  return { email: `${name}@example.com`, email_verified: true, preferred_username: name, groups: ['demo'] };
}

/** Starts listening (the issuer is known from here on) on `port`, or a free one. */
export async function startIdp(opts: { port?: number } = {}): Promise<TestIdp> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const waiting: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    if (handler) handler(req, res);
    else waiting.push(() => handler?.(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const accounts = new Map<string, AccountClaims>();
  const amr = new Map<string, string[]>();
  const backchannel: string[] = [];
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  let provider: Provider | null = null;

  return {
    issuer,
    port,
    accounts,
    amr,
    backchannel,
    get provider() {
      if (!provider) throw new Error('configure() the provider first');
      return provider;
    },
    async configure(clients, o = {}) {
      const config: Configuration = {
        clients,
        jwks: { keys: [jwk] },
        cookies: { keys: ['test-cookie-key-for-the-provider'] },
        scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
        claims: {
          // `amr` with the openid scope: in every ID token whose sign-in named its methods (see
          // interactionFinished), as Keycloak, Okta and Entra ID send it without being asked.
          openid: ['sub', 'amr'],
          email: ['email', 'email_verified'],
          profile: ['preferred_username', 'name'],
          groups: ['groups'],
        },
        // false: claims in the ID token too (as Google and Keycloak do); true: only from userinfo.
        conformIdTokenClaims: !o.idTokenHasClaims,
        features: {
          devInteractions: { enabled: true },
          backchannelLogout: { enabled: true },
          rpInitiatedLogout: { enabled: true },
        },
        pkce: { required: () => true },
        // The provider refuses to call private and loopback addresses (SSRF protection) by giving fetch a
        // guarded dispatcher; here the gateway it must call back is on loopback, so the guard is left out.
        fetch: (url, options) => {
          const { dispatcher: _guard, ...rest } = (options ?? {}) as RequestInit & { dispatcher?: unknown };
          return fetch(url, rest);
        },
        ttl: {
          AccessToken: 600,
          AuthorizationCode: 60,
          Grant: 3600,
          IdToken: 600,
          Interaction: 600,
          RefreshToken: 3600,
          Session: 3600,
        },
        async findAccount(_ctx, id) {
          const claims = accounts.get(id) ?? (o.anyName ? anyNameClaims(id) : undefined);
          if (!claims) return undefined;
          return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
        },
        // Consent is granted up front: the tests are about the gateway, not the provider's consent screen.
        async loadExistingGrant(ctx) {
          const { client, session } = ctx.oidc;
          if (!client || !session?.accountId) return undefined;
          const existing = session.grantIdFor(client.clientId);
          if (existing) {
            const found = await ctx.oidc.provider.Grant.find(existing);
            if (found) return found;
          }
          const grant = new ctx.oidc.provider.Grant({
            clientId: client.clientId,
            accountId: session.accountId,
          });
          grant.addOIDCScope('openid offline_access email profile groups');
          await grant.save();
          return grant;
        },
        renderError(ctx, out) {
          ctx.type = 'html';
          ctx.body = `<!doctype html><title>error</title><h1>${out.error}</h1><p>${out.error_description ?? ''}</p>`;
        },
      };
      // The library prints development notices (dev interactions, in-memory storage) as it starts.
      const { warn, info } = console;
      console.warn = () => {};
      console.info = () => {};
      try {
        provider = new Provider(issuer, config);
      } finally {
        console.warn = warn;
        console.info = info;
      }
      // The development sign-in pages state no authentication methods: a test names them per account, as a
      // provider that asked for a second factor would.
      const finished = provider.interactionFinished.bind(provider);
      provider.interactionFinished = (req, res, result, options) => {
        const { login } = result;
        const methods = login ? amr.get(login.accountId) : undefined;
        return finished(
          req,
          res,
          login && methods ? { ...result, login: { ...login, amr: methods } } : result,
          options,
        );
      };
      provider.on('backchannel.success', () => backchannel.push('ok'));
      provider.on('backchannel.error', (_ctx: unknown, err: Error) => backchannel.push(String(err?.message)));
      handler = provider.callback();
      for (const go of waiting.splice(0)) go();
    },
    sign: (payload, typ = 'logout+jwt') =>
      new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ }).sign(privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A person at the provider: a cookie jar for the provider's own pages, filling in its development sign-in
 * form. `authorize` follows the gateway's redirect to the provider until the provider sends the browser back,
 * and returns that URL (the callback with code and state, or with an error).
 */
export class IdpUser {
  readonly issuer: string;
  /** A browser at the provider's own pages: its cookies there are the provider session. */
  readonly #browser: BrowserClient;
  /** Whether the last authorize() had to fill in the provider's sign-in form (it had no session there). */
  askedToSignIn = false;
  constructor(issuer: string) {
    this.issuer = issuer;
    this.#browser = new BrowserClient(issuer);
  }

  /**
   * From the provider's authorization URL to the redirect back to the gateway. Signs in as `account` when the
   * provider asks (not when it still has a session); `cancel` aborts at the sign-in form instead.
   */
  async authorize(authUrl: string, account: string, opts: { cancel?: boolean } = {}): Promise<string> {
    let url = authUrl;
    this.askedToSignIn = false;
    for (let hops = 0; hops < 10; hops++) {
      if (!url.startsWith(this.issuer)) return url;
      const res = await this.#browser.get(pathOf(url));
      if (res.status === 200 && /name="prompt" value="login"/.test(res.body)) {
        this.askedToSignIn = true;
        const action = /action="([^"]+)"/.exec(res.body)?.[1] as string;
        const target = pathOf(new URL(action.replace(/&amp;/g, '&'), this.issuer).href);
        const next = opts.cancel
          ? await this.#browser.get(`${target}/abort`)
          : await this.#browser.post(target, { prompt: 'login', login: account, password: 'x' });
        url = new URL(next.location as string, this.issuer).href;
        continue;
      }
      if (res.status < 300 || res.status >= 400 || !res.location)
        throw new Error(`provider answered ${res.status} at ${url}: ${res.body.slice(0, 300)}`);
      url = new URL(res.location, url).href;
    }
    throw new Error('too many redirects at the provider');
  }

  /** Signs out at the provider (its own logout page, confirmed): it then notifies clients on the back channel. */
  async logoutAtProvider(): Promise<void> {
    const page = await this.#browser.get('/session/end');
    const done = await this.#confirmLogout(page);
    if (!done) throw new Error(`no logout form at the provider: ${page.status} ${page.body.slice(0, 200)}`);
    if (done.status >= 400) throw new Error(`provider logout failed: ${done.status}`);
  }

  /** Follows a URL at the provider (an RP-initiated logout), confirming its logout page when it shows one. */
  async follow(url: string): Promise<string> {
    const res = await this.#browser.get(pathOf(url));
    const done = res.status === 200 ? await this.#confirmLogout(res) : null;
    return done ? new URL(done.location ?? '', this.issuer).href : new URL(res.location ?? '', url).href;
  }

  /** Submits the provider's "sign me out" form on `page`; null when the page has none. */
  async #confirmLogout(page: Response): Promise<Response | null> {
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
    return xsrf ? this.#browser.post('/session/end/confirm', { xsrf, logout: 'yes' }) : null;
  }
}
