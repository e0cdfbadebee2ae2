// The gateway's own endpoints under `auth_prefix`. They are served on every host and never proxied.
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance } from 'fastify';
import { codeForStatus } from '../errors.ts';
import { PASSKEY_SCRIPT } from './assets/passkey-script.ts';
import { csrfProblem } from './auth/csrf.ts';
import { cookiesDroppedHere, refuseInsecureTransport } from './auth/plain-http.ts';
import { authHeaders, sendFailure } from './auth/respond.ts';
import { servePeople } from './failure.ts';
import type { InFlight } from './in-flight.ts';
import { accountPages } from './pages/account.ts';
import { accountSecurityPages } from './pages/account-security.ts';
import type { PagesDeps } from './pages/deps.ts';
import { loginPages } from './pages/login.ts';
import { logoutPages } from './pages/logout.ts';
import { mailLinkPages } from './pages/mail-links.ts';
import { mailRequestPages } from './pages/mail-requests.ts';
import { mfaPages } from './pages/mfa.ts';
import { newPasswordPages } from './pages/new-password.ts';
import { oidcPages } from './pages/oidc.ts';
import { passkeySignInPage } from './pages/passkey-sign-in.ts';
import { registerPages } from './pages/register.ts';
import { setupPages } from './pages/setup.ts';
import { statusPage } from './pages/status.ts';
import { verifyAddressPages } from './pages/verify-address.ts';
import { sendProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false on endpoints that neither set nor read the gateway's cookies (assets, keys, JSON status). */
    cookies?: boolean;
  }
}

// Forms carry a few short fields; 1024-character passwords, percent-encoded, fit many times over.
const FORM_BODY_LIMIT = 64 * 1024;

export async function authRoutes(
  app: FastifyInstance,
  opts: { authPrefix: string; deps: PagesDeps; inFlight: InFlight },
): Promise<void> {
  const { authPrefix: prefix, deps } = opts;
  // People reach these pages in a browser: every failure here is a page for them.
  servePeople(app);
  opts.inFlight.trackRoutes(app);
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT });

  // The pages' only dependency that can fail is the store (and argon2, which does not): answer 503 and do
  // nothing, as the proxy does, rather than a 500. Client errors (bad body, too large) keep their status.
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status < 500) {
      request.log.info({ code: err.code, detail: err.message }, 'bad request');
      return sendFailure(request, reply, codeForStatus(status));
    }
    request.log.error({ err }, 'auth endpoint failed');
    return sendFailure(request, reply, 'store_unavailable');
  });

  // Registered by files that do not know about cookies: what needs none is named here.
  const cookieless = new Set([`${prefix}/status`]);
  app.addHook('onRequest', (request, reply, done) => {
    request.hero.onAuthPath = true;
    authHeaders(reply, request.hero.snapshot.auth.csp);
    const { config, url } = request.routeOptions;
    const needsCookies = config.cookies !== false && config.csrf !== false && !cookieless.has(url ?? '');
    // A browser that would drop our Secure cookies gets no form it could never submit, but the reason and
    // the fix (plain-http.ts); a server-to-server endpoint authenticates each call itself.
    if (needsCookies && cookiesDroppedHere(request.hero)) {
      refuseInsecureTransport(request, reply);
      return;
    }
    done();
  });
  // Every POST here is a form from one of our pages; anything else is refused before it does any work.
  app.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'POST') return done();
    // Server-to-server endpoints (back-channel logout) carry a signed credential of their own instead.
    if (request.routeOptions.config.csrf === false) return done();
    const why = csrfProblem(request, deps.csrfKey);
    if (why === null) return done();
    request.log.info({ reason: why }, 'refused cross-site or tokenless form post');
    // No cookie is set here (a cross-site post must change nothing); the link loads a fresh form.
    sendFailure(request, reply, 'csrf_failed', {
      heading: 'Form expired',
      link: { href: `${prefix}/login`, label: 'Start again' },
    });
  });

  const noCookies = { config: { cookies: false } };
  app.get(`${prefix}/assets/style.css`, noCookies, async (request, reply) => {
    // Versioned URL (?v=hash of the content): safe to cache for long.
    reply.header('cache-control', 'public, max-age=86400').type('text/css; charset=utf-8');
    return request.hero.snapshot.style.css;
  });
  app.get(`${prefix}/assets/icon.svg`, noCookies, async (request, reply) => {
    reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml');
    return request.hero.snapshot.style.icon;
  });
  // The one script (passkeys); versioned URL like the stylesheet's.
  app.get(`${prefix}/assets/passkey.js`, noCookies, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=86400').type('text/javascript; charset=utf-8');
    return PASSKEY_SCRIPT;
  });
  // Public keys for verifying X-Hero-Assertion; cacheable, they change only when keys rotate.
  app.get(`${prefix}/.well-known/jwks.json`, noCookies, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300').type('application/json; charset=utf-8');
    return deps.jwks();
  });
  loginPages(app, deps, prefix);
  logoutPages(app, deps, prefix);
  accountPages(app, deps, prefix);
  accountSecurityPages(app, deps, prefix);
  mfaPages(app, deps, prefix);
  passkeySignInPage(app, deps, prefix);
  setupPages(app, deps, prefix);
  statusPage(app, deps, prefix);
  registerPages(app, deps, prefix);
  mailRequestPages(app, deps, prefix);
  mailLinkPages(app, deps, prefix);
  verifyAddressPages(app, deps, prefix);
  newPasswordPages(app, deps, prefix);
  oidcPages(app, deps, prefix);

  // Unknown paths under the prefix are 404 here rather than falling through to a route's upstream.
  app.all(`${prefix}`, noCookies, async (_req, reply) => sendProblem(reply, 'not_found'));
  app.all(`${prefix}/*`, noCookies, async (_req, reply) => sendProblem(reply, 'not_found'));
}
