// The bench's gateway config (a SQLite store, or a PostgreSQL one) and the account its authenticated routes
// are loaded with: an API token for the bearer route, and a session as a provider sign-in leaves it for the
// oauth route (the local route's session comes from a real sign-in through the form, bench/signin.ts). Shared
// by bench/run.ts, bench/postgres-rows.ts and bench/instructions.ts.
import { join } from 'node:path';
import { openStore } from '../src/adapters/open-store.ts';
import { loadConfigText } from '../src/config/load.ts';
import { hashPassword } from '../src/crypto/password.ts';
import { hashToken, randomSecret } from '../src/crypto/tokens.ts';
import { systemClock } from '../src/ports/clock.ts';
import { ApiTokenService } from '../src/services/api-tokens.ts';
import { createUser } from '../src/services/users.ts';

export const PASSWORD = 'bench-correct-horse-battery-staple';

/** A PostgreSQL store instead of the default SQLite file: its URL, and the secret such a store requires. */
export interface PostgresStore {
  url: string;
  secret: string;
}

/** The default config (log_level info: one access line per request) with one route per auth mode. */
export function benchConfig(dir: string, upstreamUrl: string, postgres?: PostgresStore): string {
  const q = JSON.stringify;
  const store = postgres?.url ?? `sqlite:${join(dir, 'bench.db')}`;
  return `
[server]
listen = "127.0.0.1:0"
data_dir = ${q(dir)}
${postgres ? `secret = ${q(postgres.secret)}\n` : ''}[admin]
listen = ""
[store]
url = ${q(store)}
[[route]]
name = "open"
host = "*"
path = "/open"
upstream = ${q(upstreamUrl)}
auth = "none"
[[route]]
name = "api"
host = "*"
path = "/api"
upstream = ${q(upstreamUrl)}
auth = "bearer"
api = true
[[route]]
name = "app"
host = "*"
path = "/app"
upstream = ${q(upstreamUrl)}
auth = "local"
[[route]]
name = "sso"
host = "*"
path = "/sso"
upstream = ${q(upstreamUrl)}
auth = "oauth"
[[oidc]]
id = "corp"
name = "Corp"
issuer = "https://sso.invalid"
client_id = "bench"
`;
}

export interface BenchAccount {
  username: string;
  /** The bearer route's API token. */
  token: string;
  /** The oauth route's session cookie value. */
  ssoToken: string;
  close: () => unknown;
}

/** Writes the bench account, its token and its provider session into the store the gateways will read. */
export async function seedAccount(toml: string, file: string): Promise<BenchAccount> {
  const loaded = loadConfigText(toml, { file, env: {} });
  if (!loaded.ok) throw new Error(`bench config rejected:\n  ${loaded.problems.join('\n  ')}`);
  const store = await openStore(loaded.config.store.url, systemClock);
  const user = await createUser(store, {
    username: 'bench',
    email: 'bench@example.com',
    emailVerified: true,
    passwordHash: await hashPassword(PASSWORD),
  });
  const { token } = await new ApiTokenService(store, systemClock).issue({
    userId: user.id,
    name: 'bench',
    claims: null,
    expiresAt: null,
  });
  // The provider itself is never asked on the request path, so none runs here.
  const ssoToken = randomSecret(32);
  await store.sessions.create({
    tokenHash: hashToken(ssoToken),
    userId: user.id,
    authMethod: 'oidc:corp',
    idleExpiresAt: Date.now() + 3_600_000,
    absoluteExpiresAt: Date.now() + 3_600_000,
    ip: null,
    userAgent: null,
    oidc: { provider: 'corp', subject: 'bench', sid: null, sealedTokens: null },
  });
  return { username: user.username, token, ssoToken, close: () => store.close() };
}
