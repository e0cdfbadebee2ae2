// Apache httpd with mod_auth_openidc as a real peer of the gateway's oauth route: the same upstream behind
// `ProxyPass`, protected by `AuthType openid-connect`, signed in once through a local OpenID provider
// (bench/oidc-peer.ts) and then loaded with the mod_auth_openidc session cookie. Apache runs in the
// foreground as one unprivileged process (`-X`, event MPM with a pool of threads), with its config, pid,
// logs and locks in its own temp dir. Installed with apt-get when missing; skipped, with a note, when not.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, log } from './load.ts';
import { type BenchProvider, navigate, signInThroughProvider, startProvider } from './oidc-peer.ts';

export const APACHE_ROW = 'apache mod_auth_openidc';
const PACKAGES = ['apache2', 'libapache2-mod-auth-openidc'];
/** Debian's layout: the binary may be outside a non-root PATH, the modules live in one directory. */
const BINARIES = ['apache2', '/usr/sbin/apache2'];
const MODULES = '/usr/lib/apache2/modules';
const SESSION_COOKIE = 'mod_auth_openidc_session';

export interface ApachePeer {
  name: string;
  url: string;
  headers: Record<string, string>;
  pid: number | undefined;
  stop: () => Promise<void>;
}

const found = () => {
  const bin = BINARIES.find((b) => !spawnSync(b, ['-v'], { stdio: 'ignore' }).error);
  return bin && existsSync(join(MODULES, 'mod_auth_openidc.so')) ? bin : null;
};

/** Like .ci/run: apt-get, non-interactive, through sudo when not root (`-n`: fail rather than ask). */
function install(): string | null {
  log(`installing ${PACKAGES.join(' ')} with apt-get for the Apache row`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...PACKAGES],
  ]) {
    const [cmd = 'env', ...rest] = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args];
    const run = spawnSync(cmd, rest, { stdio: 'ignore', timeout: 600_000 });
    if (run.error || run.status !== 0) return null;
  }
  return found();
}

/** The account Apache runs as when the bench runs as root: it must never hold root's rights. */
function unprivileged(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === 'nobody');
  return { uid: Number(entry?.[2] ?? 65534), gid: Number(entry?.[3] ?? 65534) };
}

function config(home: string, port: number, upstream: string, issuer: string, secret: string): string {
  const mods = ['mpm_event', 'authn_core', 'authz_core', 'authz_user', 'proxy', 'proxy_http', 'auth_openidc'];
  return `ServerRoot "${home}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile "${home}/httpd.pid"
ErrorLog "${home}/error.log"
LogLevel warn
DefaultRuntimeDir "${home}"
Mutex file:${home} default
${mods.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`).join('\n')}
# One process (-X) with a pool of threads; no access log (mod_log_config without CustomLog), like the
# nginx row and the bare proxy; keep-alive as nginx's defaults.
ThreadLimit 64
ThreadsPerChild 64
ServerLimit 1
StartServers 1
MaxRequestWorkers 64
KeepAlive On
MaxKeepAliveRequests 1000
KeepAliveTimeout 75
OIDCProviderMetadataURL ${issuer}/.well-known/openid-configuration
OIDCClientID apache
OIDCClientSecret ${secret}
OIDCRedirectURI http://127.0.0.1:${port}/redirect_uri
OIDCCryptoPassphrase ${randomBytes(24).toString('base64url')}
OIDCScope "openid email"
OIDCPKCEMethod S256
OIDCRemoteUserClaim sub
# The upstream never sees the session cookie (the gateway strips its own cookies too).
OIDCStripCookies ${SESSION_COOKIE} ${SESSION_COOKIE}_chunks ${SESSION_COOKIE}_0 ${SESSION_COOKIE}_1
# Sessions in mod_auth_openidc's shared-memory cache (its default), outliving the whole bench.
OIDCSessionInactivityTimeout 3600
OIDCSessionMaxDuration 3600
<Location />
  AuthType openid-connect
  Require valid-user
</Location>
ProxyPass /redirect_uri !
ProxyPass / ${upstream}/
`;
}

async function waitUp(url: string, child: ChildProcess, home: string, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    try {
      await (await fetch(url, { redirect: 'manual' })).arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const errors = existsSync(join(home, 'error.log')) ? readFileSync(join(home, 'error.log'), 'utf8') : '';
  throw new Error(`apache did not come up (exit ${child.exitCode}): ${(stderr() + errors).slice(-600)}`);
}

async function expect(url: string, cookie: string, status: number): Promise<void> {
  const page = await navigate(new URL(url), cookie);
  if (page.status !== status)
    throw new Error(
      `${APACHE_ROW}: GET ${url} ${cookie ? 'with' : 'without'} its session answered ${page.status}`,
    );
}

/** Starts the provider and Apache, signs in once; null (after one line saying why) when Apache is missing. */
export async function startApache(upstream: string): Promise<ApachePeer | null> {
  const bin = found() ?? install();
  if (!bin) {
    log(`apache row skipped: install ${PACKAGES.join(' ')} (apt-get install ${PACKAGES.join(' ')})`);
    return null;
  }
  const home = mkdtempSync(join(tmpdir(), 'hero-bench-apache-'));
  const user = unprivileged();
  if (user) chownSync(home, user.uid, user.gid);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const secret = randomBytes(24).toString('base64url');
  let provider: BenchProvider | null = null;
  let child: ChildProcess | null = null;
  const stop = async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await provider?.close();
    rmSync(home, { recursive: true, force: true });
  };
  try {
    provider = await startProvider({
      clientId: 'apache',
      clientSecret: secret,
      redirectUri: `${url}redirect_uri`,
    });
    const conf = join(home, 'httpd.conf');
    writeFileSync(conf, config(home, port, upstream, provider.issuer, secret), { mode: 0o644 });
    child = spawn(bin, ['-X', '-d', home, '-f', conf], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TMPDIR: home },
      ...(user ?? {}),
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + String(d)).slice(-2000);
    });
    await waitUp(url, child, home, () => stderr);
    const jar = await signInThroughProvider(url, provider.issuer, 'bench');
    const session = jar.get(new URL(url).origin, SESSION_COOKIE);
    if (!session) throw new Error(`${APACHE_ROW}: no ${SESSION_COOKIE} cookie after signing in`);
    const cookie = `${SESSION_COOKIE}=${session}`;
    // The row must really authenticate: without the cookie a redirect to the provider, with it the upstream.
    await expect(url, '', 302);
    await expect(url, cookie, 200);
    return { name: APACHE_ROW, url, headers: { cookie }, pid: child.pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
