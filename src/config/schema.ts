// The config schema: every key, every default and every per-field rule lives here and nowhere else.
import { isIP } from 'node:net';
import { z } from 'zod';
import { isLoopbackHost } from '../core/loopback.ts';
import { CLAIM, LABEL, NAME } from '../core/names.ts';
import { parseDuration } from './duration.ts';

export const AUTH_MODES = ['none', 'bearer', 'local', 'oauth'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Front proxies forward-auth understands: each names the original request with its own headers. */
export const FORWARD_AUTH_PROXIES = ['nginx', 'traefik', 'caddy'] as const;
export type ForwardAuthProxy = (typeof FORWARD_AUTH_PROXIES)[number];

export const COOKIE_DOMAIN = /^\.?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// Characters a route path may contain, written decoded: RFC 3986 pchar without '%' and ';' (a ";" starts
// parameters, which matching ignores).
const ROUTE_PATH = /^\/[A-Za-z0-9._~!$&'()*+,=:@/-]*$/;

const q = (v: unknown) => JSON.stringify(v);

/** A string checked by `test`; the message shows what was given, as in `must start with "/" but is "api"`. */
/** A URL as problems may show it: credentials in it are never repeated (they end up in logs and answers). */
const withoutCredentials = (v: string) => q(v.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@'));

function checked(test: (v: string) => string | null, show: (v: string) => string = q) {
  return z.string().superRefine((v, ctx) => {
    const why = test(v);
    if (why) ctx.addIssue({ code: 'custom', message: `${why} but is ${show(v)}`, input: v });
  });
}

const duration = checked((v) =>
  parseDuration(v) === null ? 'must be a duration like "90s", "15m", "12h" or "7d"' : null,
).transform((v) => parseDuration(v) as number);

const listenAddress = checked((v) => {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  return m && Number(m[2]) <= 65535 ? null : 'must be "host:port" (for example "127.0.0.1:8080")';
});

const httpUrl = (what: string) =>
  checked((v) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return `must be an absolute ${what} URL`;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https';
    if (u.username || u.password) return 'must not contain a user name or password';
    if (u.search || u.hash || v.includes('#')) return 'must not have a query or fragment';
    return null;
  }, withoutCredentials);

const publicUrl = httpUrl('http(s)').superRefine((v, ctx) => {
  try {
    if (new URL(v).pathname !== '/')
      ctx.addIssue({ code: 'custom', message: `must be an origin without a path but is ${q(v)}`, input: v });
  } catch {
    /* reported by httpUrl */
  }
});

const routeHost = checked((v) => {
  if (v === '*') return null;
  const h = v.startsWith('*.') ? v.slice(2) : v;
  if (h !== h.toLowerCase()) return 'must be lower-case';
  const labels = h.split('.');
  return labels.length > 0 && labels.every((l) => HOST_LABEL.test(l))
    ? null
    : 'must be a host name, "*.domain" or "*" (no port, no scheme)';
});

const routePath = checked((v) => {
  if (!v.startsWith('/')) return 'must start with "/"';
  if (!ROUTE_PATH.test(v))
    return 'must contain only URL path characters (no "%", ";", "?", "#", "\\" or spaces)';
  if (v.includes('//')) return 'must not contain "//"';
  if (v.split('/').some((s) => s === '.' || s === '..')) return 'must not contain "." or ".." segments';
  return null;
}).transform((v) => (v.length > 1 && v.endsWith('/') ? v.slice(0, -1) : v));

const cidr = checked((v) => {
  const [ip, bits, ...rest] = v.split('/');
  const family = isIP(ip ?? '');
  if (!family || rest.length > 0) return 'must be an IP address or CIDR range';
  if (bits === undefined) return null;
  const n = Number(bits);
  const max = family === 4 ? 32 : 128;
  return /^\d+$/.test(bits) && n <= max ? null : `must have a prefix length from 0 to ${max}`;
});

const authModes = z.unknown().transform((v, ctx) => {
  const modes = AUTH_MODES.map(q).join(', ');
  if (v === undefined) {
    ctx.addIssue({ code: 'custom', message: 'is required (there is no default auth mode)', input: v });
    return z.NEVER;
  }
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : null;
  if (list === null || list.length === 0 || list.some((m) => typeof m !== 'string')) {
    ctx.addIssue({
      code: 'custom',
      message: `must be one of ${modes}, or a non-empty list of them`,
      input: v,
    });
    return z.NEVER;
  }
  list.forEach((m, i) => {
    if (!(AUTH_MODES as readonly unknown[]).includes(m))
      ctx.addIssue({
        code: 'custom',
        message: `must be one of ${modes} but is ${q(m)}`,
        path: typeof v === 'string' ? [] : [i],
        input: m,
      });
  });
  // "none" admits everyone, so combining it with a real mode would silently open the route.
  if (list.length > 1 && list.includes('none'))
    ctx.addIssue({ code: 'custom', message: '"none" cannot be combined with other modes', input: v });
  return [...new Set(list)] as AuthMode[];
});

const adminHost = checked((v) =>
  v.split('.').every((l) => HOST_LABEL.test(l)) ? null : 'must be a lower-case host name without a port',
);

const claim = checked((v) => (CLAIM.test(v) ? null : 'must be a claim name like "wiki.read"'));
const name = checked((v) => (NAME.test(v) ? null : 'must be lower-case letters, digits, ".", "_" or "-"'));

export const RouteSchema = z.strictObject({
  name,
  host: routeHost.default('*'),
  path: routePath.default('/'),
  upstream: httpUrl('http(s)'),
  auth: authModes,
  oidc: z.array(name).optional(),
  require_claims: z.array(claim).default([]),
  context: checked((v) =>
    LABEL.test(v) ? null : 'must be letters, digits, ".", "_", ":" or "-"',
  ).optional(),
  api: z.boolean().default(false),
  strip_prefix: z.boolean().default(false),
  websocket: z.boolean().default(true),
  timeout: duration.default(30_000),
  pass_authorization: z.boolean().default(false),
  // Sessions must have passed a second factor; one that has not is sent to add it (step-up).
  mfa: z.boolean().default(false),
});

// Codes and tokens travel between the gateway and the provider: https, except to this machine (development).
const issuerUrl = httpUrl('https').superRefine((v, ctx) => {
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' && !isLoopbackHost(u.hostname))
      ctx.addIssue({
        code: 'custom',
        message: `must use https (plain http only for localhost) but is ${q(v)}`,
        input: v,
      });
  } catch {
    /* reported by httpUrl */
  }
});

export const OidcSchema = z.strictObject({
  id: name,
  name: z.string().min(1).max(80),
  issuer: issuerUrl,
  client_id: z.string().min(1),
  client_secret: z.string().min(1).optional(),
  scopes: z
    .array(checked((v) => (/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(v) ? null : 'must be a scope token')))
    .refine((s) => s.includes('openid'), { message: 'must include "openid"' })
    .default(['openid', 'email', 'profile']),
  groups_claim: z.string().min(1).optional(),
  auto_provision: z.boolean().default(false),
  link_by_verified_email: z.boolean().default(false),
  // The provider's own second factor counts as ours when its ID token's `amr` says one was used.
  trust_mfa: z.boolean().default(false),
});

export const ConfigSchema = z.strictObject({
  server: z
    .strictObject({
      listen: listenAddress.default('127.0.0.1:8080'),
      public_url: publicUrl.default('http://localhost:8080'),
      data_dir: z.string().min(1).default('./data'),
      secret: z
        .string()
        .refine((s) => Buffer.byteLength(s) >= 32, { message: 'must be at least 32 bytes long' })
        .optional(),
      trusted_proxies: z.array(cidr).default([]),
      auth_prefix: checked((v) =>
        /^(\/[a-z0-9._-]+)+$/.test(v) ? null : 'must be a path like "/auth" (no trailing slash)',
      ).default('/auth'),
      workers: z.number().int().min(1).max(64).default(1),
      // JSON lines of security events; relative to the config file; "" turns it off. Default: data_dir/audit.log.
      audit_log: z.string().optional(),
      log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      // Serve https directly: PEM files, relative to the config file, re-read on reload (renewals).
      tls_cert: z.string().min(1).optional(),
      tls_key: z.string().min(1).optional(),
      // With TLS: a plain-http listener that only redirects to public_url's origin (e.g. "0.0.0.0:80").
      http_redirect: listenAddress.optional(),
    })
    .refine((s) => (s.tls_cert === undefined) === (s.tls_key === undefined), {
      message: 'tls_cert and tls_key go together: set both, or neither',
    })
    .refine((s) => s.http_redirect === undefined || s.tls_cert !== undefined, {
      message: 'http_redirect needs tls_cert and tls_key (it redirects to the https listener)',
    })
    .prefault({}),
  admin: z
    .strictObject({
      listen: z.union([z.literal(''), listenAddress]).default('127.0.0.1:8081'),
      // Host names the admin listener answers besides loopback names and IP literals (DNS rebinding).
      hosts: z.array(adminHost).default([]),
    })
    .prefault({}),
  forward_auth: z
    .strictObject({
      // The front proxy that asks /auth/forward; only its header family is read. Unset: forward-auth is off.
      headers: z.enum(FORWARD_AUTH_PROXIES).optional(),
    })
    .prefault({}),
  store: z
    .strictObject({
      url: checked((v) =>
        v.startsWith('sqlite:') || v.startsWith('postgres://') || v.startsWith('postgresql://')
          ? null
          : 'must be "sqlite:PATH" or a postgres:// URL',
      ).optional(),
    })
    .prefault({}),
  session: z
    .strictObject({
      idle_timeout: duration.default(12 * 3600_000),
      absolute_timeout: duration.default(7 * 86400_000),
      cookie_domain: checked((v) =>
        COOKIE_DOMAIN.test(v)
          ? null
          : 'must be a lower-case domain with at least two labels, like "example.com"',
      )
        .transform((v) => v.replace(/^\./, ''))
        .optional(),
    })
    .prefault({}),
  accounts: z
    .strictObject({
      registration: z.enum(['closed', 'invite', 'open']).default('closed'),
      password_min_length: z.number().int().min(8).max(64).default(12),
      magic_link: z.boolean().default(true),
      require_verified_email: z.boolean().default(true),
      // Who must have a second factor: nobody (anyone may add one), holders of any `gateway.*` claim, everyone.
      second_factor: z.enum(['optional', 'required_for_admins', 'required']).default('optional'),
    })
    .prefault({}),
  mail: z
    .strictObject({
      from: z.string().min(3).default('Hero Gateway <gateway@localhost>'),
      smtp_url: checked(
        (v) => (/^smtps?:\/\//.test(v) ? null : 'must be an smtp:// or smtps:// URL'),
        withoutCredentials,
      ).optional(),
    })
    .prefault({}),
  branding: z
    .strictObject({
      title: z.string().min(1).max(80).default('Hero Gateway'),
      logo_url: z.string().min(1).optional(),
      accent_color: checked((v) =>
        /^#[0-9a-fA-F]{6}$/.test(v) ? null : 'must be a colour like "#4f46e5"',
      ).default('#4f46e5'),
    })
    .prefault({}),
  oidc: z.array(OidcSchema).default([]),
  route: z.array(RouteSchema).default([]),
});

export type RawConfig = z.output<typeof ConfigSchema>;
export type RouteConfig = z.output<typeof RouteSchema>;
export type OidcConfig = z.output<typeof OidcSchema>;
