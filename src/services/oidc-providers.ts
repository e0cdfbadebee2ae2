// The configured identity providers and whether each can be used now. Discovery runs in the background and
// is retried with back-off: a provider that is down never stops the gateway or the other providers, and one
// that comes back is used without a restart.
import type { OidcClient, OidcDiscovery } from '../ports/oidc.ts';

/** One `[[oidc]]` entry, as the config schema produces it. */
export interface OidcConfig {
  readonly id: string;
  readonly name: string;
  readonly issuer: string;
  readonly client_id: string;
  readonly client_secret?: string | undefined;
  readonly scopes: readonly string[];
  readonly groups_claim?: string | undefined;
  readonly auto_provision: boolean;
  readonly link_by_verified_email: boolean;
  /** The provider's own second factor counts as ours when its ID token's `amr` says one was used. */
  readonly trust_mfa: boolean;
}

export interface RetryPolicy {
  /** Wait after the first failure; doubled after each further one. */
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { firstMs: 1_000, maxMs: 300_000 };

type State =
  | { kind: 'pending' }
  | { kind: 'ready'; client: OidcClient }
  | { kind: 'down'; error: string; failures: number; lastAttemptAt: number };

class Provider {
  readonly config: OidcConfig;
  readonly key: string;
  state: State = { kind: 'pending' };
  attempt: Promise<void> | null = null;
  timer: NodeJS.Timeout | null = null;
  constructor(config: OidcConfig) {
    this.config = config;
    this.key = JSON.stringify(config);
  }
}

export interface ProviderEvents {
  ready(id: string, issuer: string): void;
  down(id: string, error: string, retryInMs: number): void;
}

export class OidcProviders {
  readonly #discovery: OidcDiscovery;
  readonly #retry: RetryPolicy;
  readonly #now: () => number;
  readonly #events: ProviderEvents;
  #providers = new Map<string, Provider>();
  #running = false;

  constructor(
    discovery: OidcDiscovery,
    opts: { retry?: RetryPolicy; now: () => number; events: ProviderEvents },
  ) {
    this.#discovery = discovery;
    this.#retry = opts.retry ?? DEFAULT_RETRY;
    this.#now = opts.now;
    this.#events = opts.events;
  }

  /**
   * Takes the providers of a (re)loaded config. Unchanged ones keep their state; new or changed ones are
   * discovered afresh; removed ones stop.
   */
  sync(configs: readonly OidcConfig[]): void {
    const next = new Map<string, Provider>();
    for (const c of configs) {
      const old = this.#providers.get(c.id);
      if (old && old.key === JSON.stringify(c)) next.set(c.id, old);
      else next.set(c.id, new Provider(c));
    }
    for (const [id, p] of this.#providers) if (next.get(id) !== p && p.timer) clearTimeout(p.timer);
    this.#providers = next;
    if (this.#running)
      for (const p of next.values()) if (p.state.kind === 'pending' && !p.attempt) this.#discover(p);
  }

  /** Starts discovery of every provider (serve); until then providers are discovered on first use. */
  start(): void {
    this.#running = true;
    for (const p of this.#providers.values()) if (p.state.kind === 'pending' && !p.attempt) this.#discover(p);
  }

  stop(): void {
    this.#running = false;
    for (const p of this.#providers.values()) if (p.timer) clearTimeout(p.timer);
  }

  config(id: string): OidcConfig | null {
    return this.#providers.get(id)?.config ?? null;
  }

  /** False only for a provider whose last discovery failed: its button says so. */
  available(id: string): boolean {
    return this.#providers.get(id)?.state.kind !== 'down';
  }

  /** The provider's client if discovery has succeeded, without waiting for anything. */
  readyClient(id: string): OidcClient | null {
    const s = this.#providers.get(id)?.state;
    return s?.kind === 'ready' ? s.client : null;
  }

  /**
   * The provider's client, or null when it cannot be used now. A provider that is down is tried again at
   * once when its last attempt is older than the first back-off step, so a user need not wait for the timer.
   */
  async client(id: string): Promise<OidcClient | null> {
    const p = this.#providers.get(id);
    if (!p) return null;
    const s = p.state;
    if (s.kind === 'ready') return s.client;
    if (!p.attempt && (s.kind === 'pending' || this.#now() - s.lastAttemptAt >= this.#retry.firstMs))
      this.#discover(p);
    await p.attempt;
    return p.state.kind === 'ready' ? p.state.client : null;
  }

  #discover(p: Provider): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    const { config } = p;
    p.attempt = this.#discovery
      .discover({
        issuer: config.issuer,
        clientId: config.client_id,
        clientSecret: config.client_secret ?? null,
        wantedClaims: [
          'email',
          'email_verified',
          'preferred_username',
          ...(config.groups_claim ? [config.groups_claim] : []),
        ],
      })
      .then(
        (client) => {
          p.state = { kind: 'ready', client };
          this.#events.ready(config.id, client.issuer);
        },
        (err: unknown) => {
          const failures = p.state.kind === 'down' ? p.state.failures + 1 : 1;
          const error = err instanceof Error ? err.message : String(err);
          p.state = { kind: 'down', error, failures, lastAttemptAt: this.#now() };
          const wait = Math.min(this.#retry.maxMs, this.#retry.firstMs * 2 ** Math.min(failures - 1, 30));
          this.#events.down(config.id, error, wait);
          // Only a provider still in use and a gateway still serving keeps trying.
          if (this.#running && this.#providers.get(config.id) === p) {
            p.timer = setTimeout(() => this.#discover(p), wait);
            p.timer.unref();
          }
        },
      )
      .finally(() => {
        p.attempt = null;
      });
  }
}
