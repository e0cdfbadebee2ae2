// The second-factor part of the store: authenticator apps (TOTP) and passkeys / security keys (WebAuthn), and
// each account's recovery codes. Every check that must happen once happens in one statement here: a TOTP step is
// accepted only if newer than the last one accepted, a recovery code is used only if still unused.

export type SecondFactorKind = 'totp' | 'webauthn';

export interface WebAuthnCredential {
  /** base64url. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  signCount: number;
  transports: string[];
  /** A passkey (resident, user-verifying credential) that can sign in without a password. */
  discoverable: boolean;
}

export interface SecondFactor {
  id: string;
  userId: string;
  kind: SecondFactorKind;
  name: string;
  createdAt: number;
  /** null: enrolment not finished (a TOTP secret shown but no right code yet); such a factor never counts. */
  confirmedAt: number | null;
  lastUsedAt: number | null;
  /** TOTP: the secret, sealed under the server secret; the newest 30 s step accepted. */
  totp: { sealedSecret: string; lastStep: number | null } | null;
  webauthn: WebAuthnCredential | null;
}

export type NewSecondFactor =
  | { kind: 'totp'; userId: string; name: string; sealedSecret: string }
  | { kind: 'webauthn'; userId: string; name: string; credential: WebAuthnCredential; confirmedAt: number };

export interface SecondFactorStore {
  /** Throws StoreConflictError('credential_id') for a WebAuthn credential already stored. */
  create(factor: NewSecondFactor, now: number): Promise<SecondFactor>;
  /** The user's factors, confirmed or not, oldest first. */
  listForUser(userId: string): Promise<SecondFactor[]>;
  byId(id: string): Promise<SecondFactor | null>;
  byCredentialId(credentialId: string): Promise<SecondFactor | null>;
  /** Finishes an enrolment; false when there is no such unconfirmed factor of the user. */
  confirm(id: string, userId: string, now: number): Promise<boolean>;
  rename(id: string, userId: string, name: string): Promise<boolean>;
  remove(id: string, userId: string): Promise<boolean>;
  /** Every factor and recovery code of the user (an administrator's reset); returns how many factors went. */
  removeAllForUser(userId: string): Promise<number>;
  /**
   * Accepts TOTP time step `step` for the factor, atomically: only if it is newer than the last step accepted,
   * so a code (and any older one) works once, also when two requests carry it at the same moment.
   */
  useTotpStep(id: string, step: number, now: number): Promise<boolean>;
  /**
   * Records a WebAuthn assertion: the authenticator's counter must have moved forward (or both stay 0, for
   * authenticators that keep none); false otherwise (a cloned authenticator) and nothing changes.
   */
  useCredential(id: string, signCount: number, now: number): Promise<boolean>;
  /** Replaces the user's recovery codes (SHA-256 hashes) with new ones in one transaction. */
  replaceRecoveryCodes(userId: string, hashes: readonly string[], now: number): Promise<void>;
  /** Uses one recovery code, once: false when unknown or already used. */
  useRecoveryCode(userId: string, hash: string, now: number): Promise<boolean>;
  /** How many unused recovery codes the user has left. */
  recoveryCodesLeft(userId: string): Promise<number>;
}
