// The demo's one config file (hero-gateway.toml): made once from config.example.toml with the demo's ports and
// identity provider, never overwritten, and read back on every run so that the file is what decides the ports.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';

const EXAMPLE = fileURLToPath(new URL('../../config.example.toml', import.meta.url));

export interface DemoPorts {
  gateway: number;
  admin: number;
  app: number;
  idp: number;
}

export interface DemoConfig {
  publicUrl: string;
  provider: { clientId: string; clientSecret: string } | null;
  /** Where mail goes: the SMTP host of mail.smtp_url, or null for the gateway's console. */
  smtpHost: string | null;
  /** null: the file gives none (no admin listener, no demo provider, no loopback upstream, or a `${NAME}`). */
  ports: { [K in keyof DemoPorts]: number | null };
}

/** The demo provider's client. Stable across runs so the file stays valid; it only exists on loopback. */
export const DEMO_CLIENT = { id: 'hero-gateway-demo', secret: 'demo-client-secret-for-npm-start-only' };

/** Replaces `from` in `text`, and insists it was there: a changed example must not yield a half-made file. */
function swap(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`config.example.toml no longer contains ${from}`);
  return text.replaceAll(from, to);
}

/** The text of a new demo config for these ports: the example, with the demo's provider and /sso route. */
export function demoConfigText(ports: DemoPorts): string {
  let text = readFileSync(EXAMPLE, 'utf8');
  text = swap(text, 'listen = "127.0.0.1:8080"', `listen = "127.0.0.1:${ports.gateway}"`);
  text = swap(
    text,
    'public_url = "http://localhost:8080"',
    `public_url = "http://localhost:${ports.gateway}"`,
  );
  text = swap(text, 'listen = "127.0.0.1:8081"', `listen = "127.0.0.1:${ports.admin}"`);
  text = swap(text, 'upstream = "http://127.0.0.1:3000"', `upstream = "http://127.0.0.1:${ports.app}"`);
  return `# Made by \`npm start\` from config.example.toml; it is never overwritten (delete it to start afresh).
# This is the file the demo serves: edit it and save, and the running gateway reloads it. A change that does
# not validate is logged and the previous config stays in force. The demo reads its ports from here.

${text}
# The demo's identity provider (scripts/demo-idp.ts, started by \`npm start\` on this issuer) and a route only
# it opens. Any name signs in there, with any password.
[[oidc]]
id = "demo"
name = "Demo SSO"
issuer = "http://127.0.0.1:${ports.idp}"
client_id = "${DEMO_CLIENT.id}"
client_secret = "${DEMO_CLIENT.secret}"
scopes = ["openid", "email", "profile", "groups"]
groups_claim = "groups"
auto_provision = true

[[route]]
name = "sso"
path = "/sso"
upstream = "http://127.0.0.1:${ports.app}"
auth = "oauth"
`;
}

/** Writes a new demo config; refuses (returns false) when the file exists, so a user's edits are never lost. */
export function createDemoConfig(file: string, ports: DemoPorts): boolean {
  try {
    writeFileSync(file, demoConfigText(ports), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

const portOf = (hostPort: unknown): number | null =>
  Number(/:(\d+)$/.exec(String(hostPort ?? ''))?.[1] ?? Number.NaN) || null;
/** A loopback URL's port, else null (a value with `${NAME}` in it, a remote host). */
function loopbackPort(value: unknown): number | null {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    return null;
  }
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return null;
  return Number(url.port || 80);
}

/**
 * What the demo needs to know from its config file: the gateway's ports and public URL, the demo provider
 * (null when the file no longer has one) and the whoami app's port (the first loopback upstream; null when every
 * route now goes elsewhere). A value the file leaves out is the gateway's default.
 */
export function readDemoConfig(file: string): DemoConfig | null {
  if (!existsSync(file)) return null;
  const cfg = parse(readFileSync(file, 'utf8')) as {
    server?: { listen?: string; public_url?: string };
    admin?: { listen?: string };
    mail?: { smtp_url?: string };
    oidc?: { id?: string; issuer?: string; client_id?: string; client_secret?: string }[];
    route?: { upstream?: string }[];
  };
  const admin = cfg.admin?.listen ?? '127.0.0.1:8081';
  const provider = (cfg.oidc ?? []).find((p) => p.id === 'demo');
  const idpPort = provider ? loopbackPort(provider.issuer) : null;
  const app = (cfg.route ?? []).map((r) => loopbackPort(r.upstream)).find((port) => port !== null);
  let smtpHost: string | null = null;
  if (cfg.mail?.smtp_url) {
    try {
      smtpHost = new URL(cfg.mail.smtp_url).host;
    } catch {
      smtpHost = 'the SMTP server of mail.smtp_url';
    }
  }
  return {
    smtpHost,
    publicUrl: String(cfg.server?.public_url ?? '').replace(/\/$/, ''),
    provider:
      provider && idpPort
        ? { clientId: String(provider.client_id), clientSecret: String(provider.client_secret) }
        : null,
    ports: {
      gateway: portOf(cfg.server?.listen ?? '127.0.0.1:8080'),
      admin: admin ? portOf(admin) : null,
      app: app ?? null,
      idp: idpPort,
    },
  };
}
