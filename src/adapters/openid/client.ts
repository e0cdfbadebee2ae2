// OpenID Connect with openid-client v6 (discovery, authorization code + PKCE, ID token validation, userinfo,
// RP-initiated logout) and jose (back-channel logout tokens).
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { isLoopbackHost } from '../../core/loopback.ts';
import type { Clock } from '../../ports/clock.ts';
import {
  type AuthorizationRequest,
  LOGOUT_TOKEN_MAX_AGE_S,
  type OidcClient,
  type OidcDiscovery,
  OidcError,
  type OidcLogout,
  type OidcProviderSettings,
  type OidcSignIn,
} from '../../ports/oidc.ts';

// Only signatures with a provider's public key: never `none`, never a MAC keyed with our client secret.
const ASYMMETRIC = /^(?:(?:RS|PS|ES)(?:256|384|512)|EdDSA|Ed25519)$/;
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const LOGOUT_TOKEN_TYPES = new Set(['logout+jwt', 'application/logout+jwt', 'jwt']);

export interface OpenidOptions {
  /** Per request to the provider. */
  timeoutMs?: number;
  clock: Clock;
}

export function openidDiscovery(opts: OpenidOptions): OidcDiscovery {
  const timeout = Math.max(1, Math.ceil((opts.timeoutMs ?? 10_000) / 1000));
  return {
    async discover(settings) {
      const issuer = new URL(settings.issuer);
      // Plain http is allowed to this machine only (development, tests): anywhere else the codes and tokens
      // would cross a network in the clear.
      const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
      const execute = insecure ? [oidc.allowInsecureRequests] : [];
      // Discovery also checks that the document's `issuer` is exactly the configured one (mix-up defence).
      const found = await oidc.discovery(issuer, settings.clientId, undefined, undefined, {
        execute,
        timeout,
      });
      const meta = found.serverMetadata();
      const methods = meta.code_challenge_methods_supported;
      if (Array.isArray(methods) && !methods.includes('S256'))
        throw new Error('the provider does not support PKCE with S256');
      if (!meta.authorization_endpoint || !meta.token_endpoint || !meta.jwks_uri)
        throw new Error('the provider metadata lacks an authorization, token or jwks endpoint');
      const config = new oidc.Configuration(
        meta,
        settings.clientId,
        settings.clientSecret ? { client_secret: settings.clientSecret } : {},
        clientAuth(meta.token_endpoint_auth_methods_supported, settings.clientSecret),
      );
      if (insecure) oidc.allowInsecureRequests(config);
      config.timeout = timeout;
      return new OpenidClient(config, settings, opts.clock, timeout);
    },
  };
}

/** The client authentication the provider offers: Basic is the protocol's default, then POST, then none. */
function clientAuth(supported: readonly string[] | undefined, secret: string | null): oidc.ClientAuth {
  if (!secret) return oidc.None();
  const methods = supported ?? ['client_secret_basic'];
  if (!methods.includes('client_secret_basic') && methods.includes('client_secret_post'))
    return oidc.ClientSecretPost(secret);
  return oidc.ClientSecretBasic(secret);
}

class OpenidClient implements OidcClient {
  readonly issuer: string;
  readonly #config: oidc.Configuration;
  readonly #settings: OidcProviderSettings;
  readonly #wanted: readonly string[];
  readonly #clock: Clock;
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(config: oidc.Configuration, settings: OidcProviderSettings, clock: Clock, timeoutS: number) {
    this.#config = config;
    this.#settings = settings;
    this.#wanted = settings.wantedClaims;
    this.#clock = clock;
    const meta = config.serverMetadata();
    this.issuer = meta.issuer;
    this.#jwks = createRemoteJWKSet(new URL(meta.jwks_uri as string), { timeoutDuration: timeoutS * 1000 });
  }

  authorizationUrl(p: AuthorizationRequest) {
    return oidc.buildAuthorizationUrl(this.#config, {
      redirect_uri: p.redirectUri,
      response_type: 'code',
      scope: p.scope,
      state: p.state,
      nonce: p.nonce,
      code_challenge: p.codeChallenge,
      code_challenge_method: 'S256',
    }).href;
  }

  async redeem(
    callbackUrl: URL,
    checks: { state: string; nonce: string; codeVerifier: string },
  ): Promise<OidcSignIn> {
    try {
      const tokens = await oidc.authorizationCodeGrant(this.#config, callbackUrl, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.codeVerifier,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims() as (Record<string, unknown> & { sub: string }) | undefined;
      if (!idClaims || typeof tokens.id_token !== 'string') throw new OidcError('invalid', 'no ID token');
      let claims: Record<string, unknown> & { sub: string } = idClaims;
      const missing = this.#wanted.some((c) => idClaims[c] === undefined);
      if (missing && tokens.access_token && this.#config.serverMetadata().userinfo_endpoint) {
        // fetchUserInfo checks that the answer is about the same subject as the ID token.
        const info = await oidc.fetchUserInfo(this.#config, tokens.access_token, idClaims.sub);
        // The ID token's own claims (signed, and holding iss/aud/nonce) win over userinfo's.
        claims = { ...info, ...idClaims };
      }
      return {
        claims,
        idToken: tokens.id_token,
        refreshToken: typeof tokens.refresh_token === 'string' ? tokens.refresh_token : null,
      };
    } catch (err) {
      throw classify(err);
    }
  }

  endSessionUrl(p: { idTokenHint: string | null; postLogoutRedirectUri: string }): string | null {
    if (!this.#config.serverMetadata().end_session_endpoint) return null;
    return oidc.buildEndSessionUrl(this.#config, {
      post_logout_redirect_uri: p.postLogoutRedirectUri,
      client_id: this.#settings.clientId,
      ...(p.idTokenHint ? { id_token_hint: p.idTokenHint } : {}),
    }).href;
  }

  async verifyLogoutToken(token: string): Promise<OidcLogout> {
    const meta = this.#config.serverMetadata();
    const algorithms = (meta.id_token_signing_alg_values_supported ?? ['RS256']).filter((a) =>
      ASYMMETRIC.test(a),
    );
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({
        payload,
        protectedHeader: { typ },
      } = await jwtVerify(token, this.#jwks, {
        issuer: meta.issuer,
        audience: this.#settings.clientId,
        algorithms,
        requiredClaims: ['iat', 'jti'],
        maxTokenAge: LOGOUT_TOKEN_MAX_AGE_S,
        clockTolerance: 60,
        currentDate: new Date(this.#clock.now()),
      }));
    } catch (err) {
      const e = err as { code?: string; name?: string };
      const unreachable = e?.code === 'ERR_JWKS_TIMEOUT' || err instanceof TypeError;
      throw new OidcError(unreachable ? 'unavailable' : 'invalid', `logout token: ${e?.code ?? e?.name}`, {
        cause: err,
      });
    }
    // OpenID Connect Back-Channel Logout 1.0 §2.6: the events member marks it as a logout token, and a nonce
    // is forbidden, so an ID token can never pass for one.
    const events = payload.events as Record<string, unknown> | undefined;
    const event = events && typeof events === 'object' ? events[BACKCHANNEL_EVENT] : undefined;
    const sub = typeof payload.sub === 'string' ? payload.sub : null;
    const sid = typeof payload.sid === 'string' ? payload.sid : null;
    const why =
      typ !== undefined && !LOGOUT_TOKEN_TYPES.has(typ.toLowerCase())
        ? `typ ${typ}`
        : event === null || typeof event !== 'object'
          ? 'no back-channel logout event'
          : payload.nonce !== undefined
            ? 'has a nonce'
            : sub === null && sid === null
              ? 'neither sub nor sid'
              : null;
    if (why) throw new OidcError('invalid', `logout token: ${why}`);
    return { subject: sub, sid, jti: payload.jti as string, issuedAt: (payload.iat as number) * 1000 };
  }
}

/** Maps what openid-client throws onto the four outcomes the gateway distinguishes. */
function classify(err: unknown): OidcError {
  if (err instanceof OidcError) return err;
  if (err instanceof oidc.AuthorizationResponseError)
    return new OidcError('denied', `authorization response: ${err.error}`, {
      providerError: err.error,
      cause: err,
    });
  // A 401 with WWW-Authenticate: the provider did not accept our client credentials.
  if (err instanceof oidc.WWWAuthenticateChallengeError)
    return new OidcError('failed', `provider refused the client: ${err.status}`, { cause: err });
  if (err instanceof oidc.ResponseBodyError)
    return new OidcError('failed', `provider answered ${err.status} ${err.error}`, {
      providerError: err.error,
      cause: err,
    });
  const e = err as { name?: string; code?: string; message?: string };
  if (err instanceof TypeError || e?.name === 'TimeoutError' || e?.name === 'AbortError')
    return new OidcError('unavailable', `provider unreachable: ${e.message}`, { cause: err });
  if (e?.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || e?.code === 'OAUTH_RESPONSE_IS_NOT_JSON')
    return new OidcError('failed', `provider answer: ${e.message}`, { cause: err });
  return new OidcError('invalid', `${e?.code ?? 'check failed'}: ${e?.message}`, { cause: err });
}
