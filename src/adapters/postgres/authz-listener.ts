// The authz version pushed to this instance: a dedicated connection LISTENs on `hero_authz`, which every
// transaction that changed users, sessions, grants or tokens notifies (migrations/postgres, hero_bump_authz)
// when it commits, from any instance or the CLI. The request path reads the last value from memory, never the
// database. The pool's connections listen too, so this instance's own changes count before they return.
//
// Fail closed: whenever the listener is not connected and caught up, the version is UNKNOWN_VERSION, under which
// nothing cached is trusted and nothing read is kept (services/authz-freshness.ts) — every request asks the
// store itself until the listener is back and has read the current value. A change can therefore never be
// missed by an instance: it was either heard, or the instance was not relying on its caches at the time.
import pg from 'pg';
import { type AuthzVersion, type AuthzVersions, UNKNOWN_VERSION } from '../../ports/authz-versions.ts';

/** The channel every committed authz change notifies (migrations/postgres, hero_bump_authz). */
export const AUTHZ_CHANNEL = 'hero_authz';
/** How the listener's connection shows in pg_stat_activity. */
export const LISTENER_NAME = 'hero-gateway authz listener';
const READ = `SELECT value FROM meta WHERE key = 'authz_version'`;
/** Reconnect delays after a lost listener: quick at first, then at most every few seconds. */
const BACKOFF_MS = [100, 250, 500, 1000, 2000, 5000];
/**
 * How often the listener's connection proves it is alive (and re-reads the version): a connection that died
 * without a word (a half-open TCP connection after a network fault) would otherwise look like "no changes".
 */
export const LISTENER_CHECK_MS = 2000;

/** The version row's value; a database without it is not one the gateway can trust. */
function versionOf(rows: { value: number }[]): number {
  const v = Number(rows[0]?.value);
  if (!Number.isFinite(v)) throw new Error('the store has no authz version (meta.authz_version is missing)');
  return v;
}

export interface AuthzListenerOptions {
  url: string;
  /** Told of losses and recoveries, for the log. */
  onState?: (state: 'listening' | 'lost', err?: Error) => void;
  checkMs?: number;
}

export class PgAuthzListener implements AuthzVersions {
  readonly #opts: AuthzListenerOptions;
  #version: AuthzVersion = UNKNOWN_VERSION;
  /**
   * This process's own count of changes heard. A notification is only a signal, never a value to adopt: NOTIFY
   * needs no privilege, so any role that can connect to the database could send `hero_authz` a huge number
   * and, were it taken as the version, freeze every instance's caches. Counting instead, a forged notification
   * costs one cache clear and can never hide a real change.
   */
  #count = 0;
  /** The stored version as last read, to notice a change no notification announced (or a restored database). */
  #stored: number | null = null;
  /** The connection being opened or in use; news from any other (an older one ending late) is ignored. */
  #client: pg.Client | null = null;
  #attempt = 0;
  #retry: NodeJS.Timeout | null = null;
  #check: NodeJS.Timeout | null = null;
  #closed = false;
  /** A check is on its way; one still unanswered when the next is due means the connection went silent. */
  #checking = false;

  constructor(opts: AuthzListenerOptions) {
    this.#opts = opts;
  }

  current(): AuthzVersion {
    return this.#version;
  }

  /**
   * A change notified on any of this instance's connections: the listener's own, or a pool connection that just
   * committed one (it hears its own notification before its COMMIT returns, so a revocation made here is refused
   * from the very next request, without waiting for the listener's round trip). Ignored while the version is
   * unknown: the reconnect that ends that counts as a change itself.
   */
  heard(): void {
    if (typeof this.#version === 'number') this.#version = ++this.#count;
  }

  /** Connects; resolves once listening and caught up, or rejects with the first failure (retries go on). */
  start(): Promise<void> {
    return this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#check) clearInterval(this.#check);
    const client = this.#client;
    this.#client = null;
    this.#version = UNKNOWN_VERSION;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#opts.url,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 5000,
      application_name: LISTENER_NAME,
    });
    this.#client = client;
    // Installed before connecting: a failure at any point after is a lost listener, never an unhandled error.
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('listener connection ended')));
    client.on('notification', (n) => {
      if (n.channel !== AUTHZ_CHANNEL || this.#client !== client) return;
      this.heard();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${AUTHZ_CHANNEL}`);
      // Read after LISTEN: a change committed in between is both heard and read, never neither.
      const { rows } = await client.query<{ value: number }>(READ);
      if (this.#closed || this.#client !== client) {
        await client.end();
        return;
      }
      this.#stored = versionOf(rows);
      // Whatever happened while it was away (or while this connection caught up) counts as a change: nothing
      // cached before is trusted after it.
      this.#version = ++this.#count;
      this.#attempt = 0;
      this.#checking = false;
      this.#opts.onState?.('listening');
      this.#check = setInterval(() => this.#prove(client), this.#opts.checkMs ?? LISTENER_CHECK_MS);
      this.#check.unref();
    } catch (err) {
      this.#lost(client, err as Error);
      throw err;
    }
  }

  /** A round trip on the listener's own connection: it answers (and the value agrees), or it is lost. */
  #prove(client: pg.Client): void {
    if (this.#checking) {
      // No answer in a whole interval: a stalled connection hears nothing, so it must not vouch for anything.
      this.#lost(client, new Error('the listener connection stopped answering'));
      return;
    }
    this.#checking = true;
    client.query<{ value: number }>(READ).then(
      ({ rows }) => {
        this.#checking = false;
        if (this.#client !== client) return;
        let read: number;
        try {
          read = versionOf(rows);
        } catch (err) {
          this.#lost(client, err as Error);
          return;
        }
        // Moved without a notification reaching us (or moved back: a restored database): a change all the same.
        if (read !== this.#stored) {
          this.#stored = read;
          this.heard();
        }
      },
      (err: Error) => this.#lost(client, err),
    );
  }

  #lost(client: pg.Client | null, err: Error): void {
    if (client === null || this.#client !== client) return; // an older connection's late news, or already handled
    const wasListening = this.#version !== UNKNOWN_VERSION;
    this.#client = null;
    this.#version = UNKNOWN_VERSION;
    if (this.#check) clearInterval(this.#check);
    this.#check = null;
    client.end().catch(() => {});
    if (this.#closed || this.#retry) return;
    if (wasListening) this.#opts.onState?.('lost', err);
    const delay = BACKOFF_MS[Math.min(this.#attempt++, BACKOFF_MS.length - 1)] as number;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      if (!this.#closed) this.#connect().catch(() => {});
    }, delay);
    this.#retry.unref();
  }
}
