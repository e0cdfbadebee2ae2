// The OpenID Connect client port: what sign-in through an identity provider needs from a protocol library.
// The adapter does the protocol checks; the services decide what an answer means for accounts and sessions.

export interface OidcProviderSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  /** Claims worth a userinfo request when the ID token lacks them (email, groups…). */
  wantedClaims: readonly string[];
}

/** What a provider said about the person, once every check passed. */
export interface OidcSignIn {
  /** ID token claims, completed from the userinfo endpoint where the ID token left some out. */
  claims: Readonly<Record<string, unknown>> & { sub: string };
  idToken: string;
  refreshToken: string | null;
}

/** A verified back-channel logout token: which provider session or subject ended. */
export interface OidcLogout {
  subject: string | null;
  sid: string | null;
  jti: string;
  /** When the provider issued it (ms since the epoch). */
  issuedAt: number;
}

/**
 * Why a provider round trip failed: the person or provider said no (`denied`), the answer failed a check
 * (`invalid`: state, issuer, nonce, signature, audience, expiry), the provider refused the code or answered
 * nonsense (`failed`), or it could not be reached (`unavailable`).
 */
export type OidcFailure = 'denied' | 'invalid' | 'failed' | 'unavailable';

export class OidcError extends Error {
  readonly kind: OidcFailure;
  /** The provider's own error code (e.g. "access_denied", "invalid_grant"), when it sent one. */
  readonly providerError: string | null;
  constructor(
    kind: OidcFailure,
    message: string,
    opts: { providerError?: string | null; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'OidcError';
    this.kind = kind;
    this.providerError = opts.providerError ?? null;
  }
}

/** A code + PKCE (S256) authorization request. */
export interface AuthorizationRequest {
  redirectUri: string;
  scope: string;
  state: string;
  nonce: string;
  codeChallenge: string;
}

/**
 * How long a back-channel logout token is accepted after it was issued; its `jti` must be remembered at least
 * this long (plus clock tolerance) for "used once" to hold.
 */
export const LOGOUT_TOKEN_MAX_AGE_S = 600;

export interface OidcClient {
  readonly issuer: string;
  /** Where to send the browser: the provider's authorization endpoint with this request. */
  authorizationUrl(p: AuthorizationRequest): string;
  /**
   * Checks the authorization response at `callbackUrl` (state, RFC 9207 `iss`, error), redeems the code with
   * the PKCE verifier, and validates the ID token (signature with an announced algorithm, issuer, audience,
   * nonce, expiry). Throws OidcError.
   */
  redeem(
    callbackUrl: URL,
    checks: { state: string; nonce: string; codeVerifier: string },
  ): Promise<OidcSignIn>;
  /** The provider's logout URL (RP-initiated logout), or null when it has none. */
  endSessionUrl(p: { idTokenHint: string | null; postLogoutRedirectUri: string }): string | null;
  /** Verifies a back-channel logout token (signature, issuer, audience, age, events, no nonce). Throws OidcError. */
  verifyLogoutToken(token: string): Promise<OidcLogout>;
}

export interface OidcDiscovery {
  /** Fetches the provider's metadata and returns a client for it; rejects when the provider cannot be used. */
  discover(settings: OidcProviderSettings): Promise<OidcClient>;
}
