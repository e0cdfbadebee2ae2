// One-time links, one mechanism for every purpose: 256 random bits, SHA-256 at rest, scoped to a purpose,
// single use, consumed atomically before anything is done with them, mailed through the outbox in the same
// transaction that stores them. The token alone decides whose account a link acts on.
import type { Sealer } from '../crypto/sealed.ts';
import { hashToken, randomSecret } from '../crypto/tokens.ts';
import type { Clock } from '../ports/clock.ts';
import type { LinkPurpose, OneTimePurpose, OneTimeToken, Store } from '../ports/store.ts';
import type { MailData, MailTemplate } from './mail-templates.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const LINK_TTL_MS: Record<LinkPurpose, number> = {
  verify_email: 24 * HOUR,
  reset_password: HOUR,
  magic_login: 15 * MINUTE,
  invite: 7 * 24 * HOUR,
  setup: 24 * HOUR,
};

/** The page each purpose's link opens, under auth_prefix. */
export const LINK_PAGE: Record<Exclude<LinkPurpose, 'setup'>, string> = {
  verify_email: '/verify',
  reset_password: '/reset',
  magic_login: '/magic',
  invite: '/invite',
};

// A link token is 43 base64url characters; anything else needs no lookup.
const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface LinkSettings {
  /** Links are built from public_url, never from the Host a request came with. */
  publicUrl: string;
  authPrefix: string;
}

export interface LinkTarget {
  userId: string | null;
  email: string;
  username?: string | undefined;
}

export class OneTimeLinks {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #sealer: Sealer;
  readonly #settings: () => LinkSettings;
  readonly #queued: () => void;

  constructor(
    deps: { store: Store; clock: Clock; sealer: Sealer; settings: () => LinkSettings },
    onQueued: () => void = () => {},
  ) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#sealer = deps.sealer;
    this.#settings = deps.settings;
    this.#queued = onQueued;
  }

  /** The absolute URL of `page` (with a query) on public_url. */
  url(page: string, query: Record<string, string> = {}): string {
    const { publicUrl, authPrefix } = this.#settings();
    const qs = new URLSearchParams(query).toString();
    return `${new URL(publicUrl).origin}${authPrefix}${page}${qs ? `?${qs}` : ''}`;
  }

  /**
   * Issues a link for `purpose` and queues its mail, replacing earlier links of the purpose for the same
   * account (or address). The mail is sealed: its link holds the token.
   */
  async send(
    purpose: Exclude<LinkPurpose, 'setup'>,
    target: LinkTarget,
    payload: Record<string, unknown> | null = null,
  ): Promise<void> {
    const token = randomSecret(32);
    const link = this.url(LINK_PAGE[purpose], { token });
    const data: MailData = { link, username: target.username };
    await this.#store.oneTimeTokens.issue(
      {
        tokenHash: hashToken(token),
        purpose,
        userId: target.userId,
        email: target.email,
        payload,
        expiresAt: this.#clock.now() + LINK_TTL_MS[purpose],
      },
      { recipient: target.email, template: purpose satisfies MailTemplate, payload: this.#sealer.seal(data) },
    );
    this.#queued();
  }

  /** A mail without a token (a notice). */
  async notify(template: MailTemplate, recipient: string, data: MailData): Promise<void> {
    await this.#store.outbox.enqueue({ recipient, template, payload: this.#sealer.seal(data) });
    this.#queued();
  }

  /** The link's token if still usable, without using it up (GET pages: mail scanners prefetch links). */
  peek(token: unknown, purpose: OneTimePurpose): Promise<OneTimeToken | null> {
    if (typeof token !== 'string' || !LINK_TOKEN.test(token)) return Promise.resolve(null);
    return this.#store.oneTimeTokens.peek(hashToken(token), purpose, this.#clock.now());
  }

  /** Uses the link up; of concurrent callers exactly one gets it. */
  consume(token: unknown, purpose: OneTimePurpose): Promise<OneTimeToken | null> {
    if (typeof token !== 'string' || !LINK_TOKEN.test(token)) return Promise.resolve(null);
    return this.#store.oneTimeTokens.consume(hashToken(token), purpose, this.#clock.now());
  }
}
