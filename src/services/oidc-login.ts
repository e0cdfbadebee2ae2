// Sign-in through an identity provider, as ordered steps: begin (a single-use attempt bound to this browser,
// then off to the provider), complete (consume the attempt, let the client check the answer, find the account,
// refresh its groups), and the two ways a provider session ends ours (RP-initiated and back-channel logout).
import { constantTimeEqual } from '../crypto/constant-time.ts';
import type { Sealer } from '../crypto/sealed.ts';
import { hashToken, pkceChallenge, randomSecret } from '../crypto/tokens.ts';
import type { Clock } from '../ports/clock.ts';
import { LOGOUT_TOKEN_MAX_AGE_S, OidcError, type OidcFailure } from '../ports/oidc.ts';
import {
  type OwnershipReset,
  type SessionOidc,
  type Store,
  StoreConflictError,
  type User,
} from '../ports/store.ts';
import type { AccountOutcome, OidcAccounts } from './oidc-accounts.ts';
import type { OidcProviders } from './oidc-providers.ts';

/** Long enough to sign in at a provider (with a second factor), short enough that stale attempts vanish. */
export const ATTEMPT_TTL_MS = 10 * 60_000;
// state is 256 random bits as base64url; anything else was never ours and needs no lookup.
const STATE = /^[A-Za-z0-9_-]{43}$/;

interface Attempt {
  provider: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  redirectUri: string;
  /** SHA-256 of the browser-binding cookie the attempt started with. */
  binding: string;
}

export type BeginOutcome =
  | { kind: 'redirect'; url: string; attemptId: string }
  | { kind: 'unknown' }
  | { kind: 'unavailable' };

/** A short public name for an attempt, derived from its state (which is in the callback URL). */
export function attemptId(state: string): string {
  return hashToken(`attempt ${state}`).slice(0, 16);
}

// RFC 8176 values that name a factor beyond a password; `mfa` says so outright.
const SECOND_FACTOR_AMR = new Set(['mfa', 'otp', 'hwk', 'swk', 'sc', 'sms', 'tel']);

/** Whether an ID token's `amr` says the provider asked for more than a password. Anything malformed: no. */
export function providerAskedForSecondFactor(amr: unknown): boolean {
  return Array.isArray(amr) && amr.some((v) => typeof v === 'string' && SECOND_FACTOR_AMR.has(v));
}

export type CompleteOutcome =
  | {
      kind: 'ok';
      user: User;
      returnTo: string;
      session: SessionOidc;
      created: boolean;
      linked: boolean;
      /** What linking removed from an account nobody had confirmed (null: nothing was taken over). */
      reset: OwnershipReset | null;
      /** The provider is trusted for second factors (`trust_mfa`) and its ID token says it asked for one. */
      providerMfa: boolean;
    }
  /** Missing, malformed, unknown, used, expired, another provider's, or another browser's attempt. */
  | { kind: 'state_invalid'; detail: string }
  | { kind: 'unknown' }
  | { kind: 'provider'; failure: OidcFailure; detail: string; providerError: string | null; returnTo: string }
  | (Exclude<AccountOutcome, { kind: 'ok' }> & { returnTo: string });

export interface OidcLoginOptions {
  /** Read at each sign-in: open registration also creates accounts for new identities. */
  registrationOpen: () => boolean;
  /** Seals the attempt (nonce, PKCE verifier) in its store row. */
  stateSealer: Sealer;
  /** Seals the provider's ID and refresh tokens kept with the session. */
  tokenSealer: Sealer;
}

function isAttempt(v: unknown): v is Attempt {
  if (typeof v !== 'object' || v === null) return false;
  const a = v as Record<string, unknown>;
  return ['provider', 'nonce', 'verifier', 'returnTo', 'redirectUri', 'binding'].every(
    (k) => typeof a[k] === 'string',
  );
}

export class OidcLogin {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #providers: OidcProviders;
  readonly #accounts: OidcAccounts;
  readonly #opts: OidcLoginOptions;

  constructor(
    store: Store,
    clock: Clock,
    providers: OidcProviders,
    accounts: OidcAccounts,
    opts: OidcLoginOptions,
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#providers = providers;
    this.#accounts = accounts;
    this.#opts = opts;
  }

  /**
   * A new attempt: fresh state, nonce and PKCE verifier (256 bits each), stored single-use under the SHA-256 of
   * the state and tied to a binding value the browser keeps in a cookie of this attempt's own.
   */
  async begin(
    providerId: string,
    req: { redirectUri: string; returnTo: string; binding: string },
  ): Promise<BeginOutcome> {
    const config = this.#providers.config(providerId);
    if (!config) return { kind: 'unknown' };
    const client = await this.#providers.client(providerId);
    if (!client) return { kind: 'unavailable' };
    const state = randomSecret(32);
    const attempt: Attempt = {
      provider: providerId,
      nonce: randomSecret(32),
      verifier: randomSecret(32),
      returnTo: req.returnTo,
      redirectUri: req.redirectUri,
      binding: hashToken(req.binding),
    };
    await this.#store.oneTimeTokens.create({
      tokenHash: hashToken(state),
      purpose: 'oidc_state',
      userId: null,
      email: null,
      // Sealed: a copy of the database must not hand out the verifier of a sign-in in progress.
      payload: { sealed: this.#opts.stateSealer.seal(attempt) },
      expiresAt: this.#clock.now() + ATTEMPT_TTL_MS,
    });
    const url = client.authorizationUrl({
      redirectUri: req.redirectUri,
      scope: config.scopes.join(' '),
      state,
      nonce: attempt.nonce,
      codeChallenge: pkceChallenge(attempt.verifier),
    });
    return { kind: 'redirect', url, attemptId: attemptId(state) };
  }

  /**
   * The provider's answer at the callback: every check, in order, before anything is trusted. `binding` is the
   * value of the browser's cookie for this attempt (see attemptId), or null.
   */
  async complete(providerId: string, callback: URL, binding: string | null): Promise<CompleteOutcome> {
    const config = this.#providers.config(providerId);
    if (!config) return { kind: 'unknown' };
    // 1. The attempt: consumed before anything else, so a state is good for exactly one answer.
    const state = callback.searchParams.get('state');
    if (state === null || !STATE.test(state))
      return { kind: 'state_invalid', detail: 'missing or malformed state' };
    const row = await this.#store.oneTimeTokens.consume(hashToken(state), 'oidc_state', this.#clock.now());
    if (!row) return { kind: 'state_invalid', detail: 'unknown, used or expired state' };
    const attempt = this.#opts.stateSealer.open(String(row.payload?.sealed ?? ''));
    if (!isAttempt(attempt)) return { kind: 'state_invalid', detail: 'unreadable attempt' };
    // 2. Begun for this provider: an answer must not be replayed into another provider's callback (mix-up).
    if (attempt.provider !== providerId)
      return { kind: 'state_invalid', detail: 'attempt of another provider' };
    // 3. Begun in this browser: otherwise an attacker could hand a victim the callback of the attacker's own
    //    sign-in and have the victim work in the attacker's account (login CSRF).
    if (binding === null || !constantTimeEqual(hashToken(binding), attempt.binding))
      return { kind: 'state_invalid', detail: 'attempt of another browser' };
    const returnTo = attempt.returnTo;
    const client = await this.#providers.client(providerId);
    if (!client)
      return {
        kind: 'provider',
        failure: 'unavailable',
        detail: 'provider unavailable',
        providerError: null,
        returnTo,
      };
    // 4. The answer itself: error, RFC 9207 iss, code redemption with the PKCE verifier, the ID token.
    //    The callback URL is rebuilt on the redirect_uri sent at begin, which the token request must repeat.
    let signIn: Awaited<ReturnType<typeof client.redeem>>;
    try {
      signIn = await client.redeem(new URL(`${attempt.redirectUri}${callback.search}`), {
        state,
        nonce: attempt.nonce,
        codeVerifier: attempt.verifier,
      });
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      return {
        kind: 'provider',
        failure: err.kind,
        detail: err.message,
        providerError: err.providerError,
        returnTo,
      };
    }
    // 5. The account, then its groups.
    const account = await this.#accounts.resolve(
      { provider: config, issuer: client.issuer, claims: signIn.claims },
      this.#opts.registrationOpen(),
    );
    if (account.kind !== 'ok') return { ...account, returnTo };
    await this.#accounts.syncGroups(account.user, config, signIn.claims);
    const sid = typeof signIn.claims.sid === 'string' ? signIn.claims.sid : null;
    return {
      kind: 'ok',
      user: account.user,
      returnTo,
      created: account.created,
      linked: account.linked,
      reset: account.reset,
      providerMfa: config.trust_mfa && providerAskedForSecondFactor(signIn.claims.amr),
      session: {
        provider: providerId,
        subject: signIn.claims.sub,
        sid,
        sealedTokens: this.#opts.tokenSealer.seal({
          id_token: signIn.idToken,
          refresh_token: signIn.refreshToken,
        }),
      },
    };
  }

  /**
   * Where to send the browser so the provider ends its session too, or null when the session was not started
   * through a provider that offers RP-initiated logout. Read before or after the session ends.
   */
  async endSessionUrl(sessionId: string, postLogoutRedirectUri: string): Promise<string | null> {
    const facts = await this.#store.sessions.oidcOf(sessionId);
    if (!facts) return null;
    // Never wait for a provider that is down: signing out here must not hang on it.
    const client = this.#providers.readyClient(facts.provider);
    if (!client) return null;
    const tokens = facts.sealedTokens ? this.#opts.tokenSealer.open(facts.sealedTokens) : null;
    const idToken = (tokens as { id_token?: unknown } | null)?.id_token;
    return client.endSessionUrl({
      idTokenHint: typeof idToken === 'string' ? idToken : null,
      postLogoutRedirectUri,
    });
  }

  /**
   * A back-channel logout token from the provider: verified, used at most once (its jti), then every session
   * it names ends. Returns how many, or why it was refused.
   */
  async backchannelLogout(
    providerId: string,
    token: string,
  ): Promise<
    | { kind: 'ok'; ended: number }
    | { kind: 'unknown' }
    | { kind: 'refused'; failure: OidcFailure; detail: string }
  > {
    if (!this.#providers.config(providerId)) return { kind: 'unknown' };
    const client = await this.#providers.client(providerId);
    if (!client) return { kind: 'refused', failure: 'unavailable', detail: 'provider unavailable' };
    let logout: Awaited<ReturnType<typeof client.verifyLogoutToken>>;
    try {
      logout = await client.verifyLogoutToken(token);
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      return { kind: 'refused', failure: err.kind, detail: err.message };
    }
    const now = this.#clock.now();
    try {
      // Remembered until after the token's age limit (and clock tolerance) has passed: it is refused anyway then.
      await this.#store.oneTimeTokens.create({
        tokenHash: hashToken(`${client.issuer} ${logout.jti}`),
        purpose: 'oidc_logout',
        userId: null,
        email: null,
        payload: null,
        expiresAt: Math.max(now, logout.issuedAt) + 2 * LOGOUT_TOKEN_MAX_AGE_S * 1000,
      });
    } catch (err) {
      if (err instanceof StoreConflictError)
        return { kind: 'refused', failure: 'invalid', detail: 'logout token replayed' };
      throw err;
    }
    const ended = await this.#store.sessions.revokeOidc(
      { provider: providerId, subject: logout.subject, sid: logout.sid, startedBefore: now },
      now,
    );
    return { kind: 'ok', ended };
  }
}
