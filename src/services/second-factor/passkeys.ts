// Passkeys and security keys (WebAuthn): registering one, and checking an assertion either as the second factor
// of a known user or as a sign-in of its own ("Sign in with a passkey"). Each challenge works for one response,
// once, within five minutes, for the ceremony and the user it was made for. It is signed, not stored, when
// handed out — showing the sign-in page writes nothing, so it cannot be used to fill the store — and stored as
// used (a one-time token, its hash only) when answered, so a second answer is refused. Whatever a client sends
// that does not check out is a null, never an exception: the caller audits and answers.
import {
  type AuthenticationResponseJSON,
  type CredentialDeviceType,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { isoBase64URL, isoUint8Array } from '@simplewebauthn/server/helpers';
import type { SigningKey } from '../../crypto/keys.ts';
import { hashToken, randomSecret } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import { type SecondFactor, type Store, StoreConflictError, type User } from '../../ports/store.ts';

export interface RelyingParty {
  /** The RP ID: a host name the pages' origins are on (or end in). */
  id: string;
  /** Shown by the browser and the authenticator. */
  name: string;
  /** The exact origins (scheme://host[:port]) pages with the passkey forms are served on. */
  origins: string[];
}

export interface PasskeyUse {
  factor: SecondFactor;
  /** The authenticator checked a PIN or biometric, not just a touch. */
  userVerified: boolean;
  /** A synced passkey whose key is backed up (in a platform's keychain). */
  backedUp: boolean;
}

/** How long the browser may take, and so how long its challenge lives. */
const CEREMONY_MS = 5 * 60_000;
/** ES256 and RS256: the FIDO baseline every authenticator offers one of; fewer algorithms, less to trust. */
const ALGORITHMS = [-7, -257];
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);
/** Real responses are a few kilobytes; this bounds the work a hostile one can ask for before any check. */
const MAX_RESPONSE = 64 * 1024;

type Ceremony = 'register' | 'authenticate';
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A response's shape and the challenge its client data names, or null: the cheap checks before any store work. */
function parseResponse(
  json: string,
): { response: Json & { id: string }; body: Json; challenge: string } | null {
  if (typeof json !== 'string' || json.length > MAX_RESPONSE) return null;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (!isObject(value) || typeof value.id !== 'string' || value.id === '' || value.rawId !== value.id)
    return null;
  if (value.type !== 'public-key' || !isObject(value.response)) return null;
  const clientData = value.response.clientDataJSON;
  if (typeof clientData !== 'string' || !isoBase64URL.isBase64URL(clientData)) return null;
  let challenge: unknown;
  try {
    const data: unknown = JSON.parse(isoBase64URL.toUTF8String(clientData));
    challenge = isObject(data) ? data.challenge : null;
  } catch {
    return null;
  }
  if (typeof challenge !== 'string' || challenge === '' || challenge.length > 256) return null;
  return { response: value as Json & { id: string }, body: value.response, challenge };
}

/** The WebAuthn user handle: the user id's bytes, so an assertion names the account without naming the person. */
const userHandle = (userId: string) => isoUint8Array.fromUTF8String(userId);

/**
 * Whether the browser can offer the credential with no account named (password-less sign-in). The credProps
 * extension says so when the browser reports it; it is unsigned, but it grants nothing: it only decides whether
 * the account page offers password-less sign-in, and such a sign-in still needs a verified user and a good
 * signature every time. Without it, a synced (multi-device) passkey is one — every platform that syncs makes
 * them discoverable — and a single-device key is taken not to be, rather than promising what may fail.
 */
function isDiscoverable(response: Json, deviceType: CredentialDeviceType): boolean {
  const extensions = response.clientExtensionResults;
  const rk = isObject(extensions) && isObject(extensions.credProps) ? extensions.credProps.rk : undefined;
  return typeof rk === 'boolean' ? rk : deviceType === 'multiDevice';
}

export class Passkeys {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #rp: () => RelyingParty;
  readonly #key: SigningKey;

  constructor(deps: { store: Store; clock: Clock; rp: () => RelyingParty; key: SigningKey }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#rp = deps.rp;
    this.#key = deps.key;
  }

  /** What `navigator.credentials.create()` needs to make a new credential for the user. */
  async registrationOptions(user: User): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const rp = this.#rp();
    const options = await generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.id,
      userName: user.username,
      userID: userHandle(user.id),
      userDisplayName: user.email || user.username,
      // No attestation: we do not restrict makes of authenticator, and asking would only prompt the user.
      attestationType: 'none',
      // The authenticator refuses to make a second credential for the same account: no duplicates to confuse.
      excludeCredentials: await this.#credentials(user.id),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      supportedAlgorithmIDs: ALGORITHMS,
      timeout: CEREMONY_MS,
      challenge: this.#challenge('register', user.id),
    });
    return options;
  }

  /**
   * What `navigator.credentials.get()` needs. For a user (the second step of a sign-in): their own credentials,
   * a touch is enough (the password was the first factor). For nobody (password-less sign-in): any passkey of
   * this site, and it must verify the user (PIN or biometric), since it is the only factor.
   */
  async authenticationOptions(user: User | null): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const rp = this.#rp();
    const options = await generateAuthenticationOptions({
      rpID: rp.id,
      // None listed: the browser offers whichever passkeys of this site it holds (discoverable credentials).
      ...(user ? { allowCredentials: await this.#credentials(user.id) } : {}),
      userVerification: user ? 'preferred' : 'required',
      timeout: CEREMONY_MS,
      challenge: this.#challenge('authenticate', user?.id ?? null),
    });
    return options;
  }

  /** Stores the credential the browser made; null when the response is not one we asked this user for. */
  async finishRegistration(user: User, responseJson: string, name: string): Promise<SecondFactor | null> {
    const parsed = parseResponse(responseJson);
    if (!parsed) return null;
    // Used up before anything else is checked: a challenge answers one response, whether it verifies or not.
    const token = await this.#consume(parsed.challenge, 'register');
    // Made for this user: another account's challenge cannot add a key to this one.
    if (!token || token.userId !== user.id) return null;
    const rp = this.#rp();
    let info: NonNullable<Awaited<ReturnType<typeof verifyRegistrationResponse>>['registrationInfo']>;
    try {
      const result = await verifyRegistrationResponse({
        response: parsed.response as unknown as RegistrationResponseJSON,
        expectedChallenge: parsed.challenge,
        expectedOrigin: rp.origins,
        expectedRPID: rp.id,
        // A key without a PIN is still a good second factor; password-less sign-in demands verification per use.
        requireUserVerification: false,
        supportedAlgorithmIDs: ALGORITHMS,
      });
      if (!result.verified) return null;
      info = result.registrationInfo;
    } catch {
      // A malformed or forged response: the library's reason is for no one but an attacker.
      return null;
    }
    // The id the browser reports is the one its assertions will carry: it must be the one in the signed data.
    if (info.credential.id !== parsed.response.id) return null;
    const now = this.#clock.now();
    try {
      return await this.#store.secondFactors.create(
        {
          kind: 'webauthn',
          userId: user.id,
          name,
          confirmedAt: now,
          credential: {
            credentialId: info.credential.id,
            publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
            signCount: info.credential.counter,
            // Client-reported hints, echoed back to browsers later: only the names the spec defines.
            transports: (info.credential.transports ?? []).filter((t) => TRANSPORTS.has(t)),
            discoverable: isDiscoverable(parsed.response, info.credentialDeviceType),
          },
        },
        now,
      );
    } catch (err) {
      // The credential is registered already (to this account or another): it is not added twice.
      if (err instanceof StoreConflictError) return null;
      throw err;
    }
  }

  /**
   * Checks an assertion: as the second factor of `user`, or, with `user` null, as a password-less sign-in
   * (then the credential says who signs in). The factor used, or null.
   */
  async verifyAuthentication(responseJson: string, user: User | null): Promise<PasskeyUse | null> {
    const parsed = parseResponse(responseJson);
    if (!parsed) return null;
    const { authenticatorData, signature, userHandle: handle } = parsed.body;
    if (typeof authenticatorData !== 'string' || typeof signature !== 'string') return null;
    if (handle !== undefined && handle !== null && typeof handle !== 'string') return null;
    // Used up before the signature is checked: a challenge answers one response, whether it verifies or not.
    const token = await this.#consume(parsed.challenge, 'authenticate');
    if (!token) return null;
    const factor = await this.#store.secondFactors.byCredentialId(parsed.response.id);
    const credential = factor?.webauthn;
    if (factor?.kind !== 'webauthn' || !credential || factor.confirmedAt === null) return null;
    // A second factor must be the signed-in user's own; another account's key proves nothing about this one.
    if (user && factor.userId !== user.id) return null;
    // A challenge made for one user's sign-in cannot be answered with another user's credential.
    if (token.userId !== null && token.userId !== factor.userId) return null;
    // The authenticator names the account it made the credential for: it must be the one the credential is
    // stored under (checked whenever present, not only password-less: a mismatch is never legitimate).
    if (typeof handle === 'string' && !sameBytes(handle, userHandle(factor.userId))) return null;
    const rp = this.#rp();
    let info: Awaited<ReturnType<typeof verifyAuthenticationResponse>>['authenticationInfo'];
    try {
      const result = await verifyAuthenticationResponse({
        response: parsed.response as unknown as AuthenticationResponseJSON,
        expectedChallenge: parsed.challenge,
        expectedOrigin: rp.origins,
        expectedRPID: rp.id,
        credential: {
          id: credential.credentialId,
          publicKey: isoBase64URL.toBuffer(credential.publicKey),
          counter: credential.signCount,
          transports: credential.transports,
        },
        // Password-less, the passkey is the only factor: possession alone (a touch) is not enough.
        requireUserVerification: user === null,
      });
      if (!result.verified) return null;
      info = result.authenticationInfo;
    } catch {
      return null;
    }
    // Checked here too, not only by the library's option: the one rule that makes a passkey a whole sign-in.
    if (user === null && !info.userVerified) return null;
    const now = this.#clock.now();
    // The counter must move forward, atomically in the store: two racing assertions, or a cloned authenticator
    // replaying an older count, get one success at most.
    if (!(await this.#store.secondFactors.useCredential(factor.id, info.newCounter, now))) return null;
    return {
      factor: { ...factor, lastUsedAt: now, webauthn: { ...credential, signCount: info.newCounter } },
      userVerified: info.userVerified,
      backedUp: info.credentialBackedUp,
    };
  }

  /** The user's passkeys and security keys, as the browser is told of them. */
  async #credentials(userId: string): Promise<{ id: string; transports: string[] }[]> {
    return (await this.#store.secondFactors.listForUser(userId)).flatMap((f) =>
      f.kind === 'webauthn' && f.webauthn && f.confirmedAt !== null
        ? [{ id: f.webauthn.credentialId, transports: f.webauthn.transports }]
        : [],
    );
  }

  /** A new challenge (the library sends its UTF-8 bytes): what it is for, when it was made, a nonce, signed. */
  #challenge(ceremony: Ceremony, userId: string | null): string {
    const body = `${ceremony}.${userId ?? ''}.${this.#clock.now().toString(36)}.${randomSecret(16)}`;
    return `${body}.${this.#key.sign(body)}`;
  }

  /**
   * The challenge's facts if we made it, for this ceremony, less than five minutes ago, and it was not answered
   * before — recorded as answered now, in one store statement (a second answer meets the stored hash).
   */
  async #consume(challenge: string, ceremony: Ceremony): Promise<{ userId: string | null } | null> {
    if (!isoBase64URL.isBase64URL(challenge)) return null;
    const parts = isoBase64URL.toUTF8String(challenge).split('.');
    if (parts.length !== 5) return null;
    const [kind, userId, issued, nonce, mac] = parts as [string, string, string, string, string];
    if (!this.#key.verify(`${kind}.${userId}.${issued}.${nonce}`, mac)) return null;
    // A registration challenge cannot answer a sign-in, nor the reverse.
    if (kind !== ceremony) return null;
    const issuedAt = Number.parseInt(issued, 36);
    const now = this.#clock.now();
    if (!Number.isSafeInteger(issuedAt) || issuedAt > now || now - issuedAt > CEREMONY_MS) return null;
    try {
      await this.#store.oneTimeTokens.create({
        tokenHash: hashToken(challenge),
        purpose: 'webauthn_challenge',
        userId: userId || null,
        email: null,
        payload: { ceremony },
        expiresAt: issuedAt + CEREMONY_MS,
      });
    } catch (err) {
      if (err instanceof StoreConflictError) return null;
      throw err;
    }
    return { userId: userId || null };
  }
}

/** A base64url value against bytes; false for anything not base64url. */
function sameBytes(base64url: string, bytes: ReturnType<typeof userHandle>): boolean {
  if (!isoBase64URL.isBase64URL(base64url)) return false;
  return isoUint8Array.areEqual(isoBase64URL.toBuffer(base64url), bytes);
}
