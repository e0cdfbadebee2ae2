// What the auth pages and the `local` mode derive from the config, compiled once per config snapshot:
// cookie names and attributes, the origins the gateway serves, and the pages' Content-Security-Policy.
import type { Config } from '../../config/load.ts';
import { isSecureContextHost } from '../../core/loopback.ts';
import type { RouteTable } from '../../core/routes.ts';
import { compileServedOrigins, type OriginCheck } from '../../core/safe-redirect.ts';
import { PASSKEY_SCRIPT_VERSION } from '../assets/passkey-script.ts';

export interface CookieSpec {
  name: string;
  secure: boolean;
  domain?: string;
}

export interface AuthSettings {
  session: CookieSpec;
  csrf: CookieSpec;
  device: CookieSpec;
  /** This browser set or proved an unconfirmed account's password (http/pages/password-proof.ts). */
  passwordProof: CookieSpec;
  /**
   * Binds an identity-provider sign-in in progress to the browser that began it: one cookie per attempt,
   * named `<name>_<id>`, so tabs signing in at the same time never overwrite each other's.
   */
  oidcBinding: CookieSpec;
  /** A sign-in waiting for its second factor (services/second-factor/sign-in.ts). */
  mfaPending: CookieSpec;
  /** This browser proved the password or a factor a few minutes ago: sign-in security may be changed. */
  recentProof: CookieSpec;
  served: OriginCheck;
  csp: string;
  /** The same, allowing the gateway's one script on the page's origin: only on pages that offer passkeys. */
  cspWithScript(origin: string): string;
  /** The asset URL with a version, so a branding change is never hidden by a cached stylesheet. */
  stylesheet: string;
  icon: string;
  passkeyScript: string;
}

/**
 * `__Host-` pins a cookie to one origin (Secure, Path=/, no Domain), so no sibling subdomain can plant or read
 * it. With cookie_domain the session must be shared, so `__Secure-` is the strongest prefix left. Browsers
 * accept Secure cookies on http://localhost; on plain http anywhere else no prefix is possible.
 */
function cookieSpec(base: string, publicUrl: URL, domain: string | undefined): CookieSpec {
  const secure = publicUrl.protocol === 'https:' || isSecureContextHost(publicUrl.hostname);
  if (!secure) return domain ? { name: base, secure, domain } : { name: base, secure };
  return domain ? { name: `__Secure-${base}`, secure, domain } : { name: `__Host-${base}`, secure };
}

/** The attributes every gateway cookie is set with: its spec (Secure, Domain) plus SameSite and lifetime. */
export function cookieAttributes(
  spec: CookieSpec,
  opts: { sameSite: 'lax' | 'strict'; maxAge?: number },
): import('@fastify/cookie').CookieSerializeOptions {
  return {
    path: '/',
    httpOnly: true,
    secure: spec.secure,
    sameSite: opts.sameSite,
    ...(spec.domain ? { domain: spec.domain } : {}),
    ...(opts.maxAge !== undefined ? { maxAge: opts.maxAge } : {}),
  };
}

export function compileAuthSettings(config: Config, table: RouteTable, styleVersion: string): AuthSettings {
  const pub = new URL(config.server.public_url);
  const session = cookieSpec('hero_session', pub, config.session.cookie_domain);
  // The CSRF, device and password-proof cookies never leave the host that set them.
  const csrf = cookieSpec('hero_csrf', pub, undefined);
  const device = cookieSpec('hero_device', pub, undefined);
  const passwordProof = cookieSpec('hero_password_proof', pub, undefined);
  const oidcBinding = cookieSpec('hero_oidc', pub, undefined);
  const mfaPending = cookieSpec('hero_mfa', pub, undefined);
  const recentProof = cookieSpec('hero_recent_proof', pub, undefined);
  const served = compileServedOrigins(config.server.public_url, table.routes);
  // After a sign-in form, the redirect may go to another origin the gateway serves; browsers apply
  // form-action to that redirect too.
  const formTargets = table.routes.filter((r) => r.hostRank < 2).map((r) => `${pub.protocol}//${r.host}`);
  const logo = config.branding.logo_url ? logoSource(config.branding.logo_url) : null;
  // No script (but passkey.js where passkeys are offered); forms may only post to this origin; nothing may
  // frame the pages (clickjacking).
  const directives = [
    "default-src 'none'",
    "style-src 'self'",
    `img-src 'self'${logo ? ` ${logo}` : ''}`,
    ["form-action 'self'", ...new Set(formTargets)].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ];
  const csp = directives.join('; ');
  // WebAuthn has no form-only API: passkey pages run passkey.js, served by the gateway, and nothing else —
  // named by its full URL rather than 'self', since apps routed on the same origin serve scripts too.
  const script = `${config.server.auth_prefix}/assets/passkey.js`;
  const cspWithScript = (origin: string) => [...directives, `script-src ${origin}${script}`].join('; ');
  return {
    session,
    csrf,
    device,
    passwordProof,
    oidcBinding,
    mfaPending,
    recentProof,
    served,
    csp,
    cspWithScript,
    stylesheet: `${config.server.auth_prefix}/assets/style.css?v=${styleVersion}`,
    icon: `${config.server.auth_prefix}/assets/icon.svg?v=${styleVersion}`,
    passkeyScript: `${config.server.auth_prefix}/assets/passkey.js?v=${PASSKEY_SCRIPT_VERSION}`,
  };
}

/** A logo on another origin is allowed by that origin alone; a relative one is already 'self'. */
function logoSource(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : null;
  } catch {
    return null;
  }
}
