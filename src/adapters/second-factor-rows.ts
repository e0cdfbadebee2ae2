// A second-factor row as both SQL stores keep it, and its mapper.
import type { SecondFactor, SecondFactorKind } from '../ports/store.ts';

export const SECOND_FACTOR_COLUMNS = `id, user_id, kind, name, created_at, confirmed_at, last_used_at, totp_secret,
  totp_last_step, credential_id, public_key, sign_count, transports, discoverable`;

export interface SecondFactorRow {
  id: string;
  user_id: string;
  kind: SecondFactorKind;
  name: string;
  created_at: number;
  confirmed_at: number | null;
  last_used_at: number | null;
  totp_secret: string | null;
  totp_last_step: number | null;
  credential_id: string | null;
  public_key: string | null;
  sign_count: number | null;
  transports: string | null;
  /** SQLite: 0/1; PostgreSQL: boolean. */
  discoverable: number | boolean | null;
}

export const toSecondFactor = (r: SecondFactorRow): SecondFactor => ({
  id: r.id,
  userId: r.user_id,
  kind: r.kind,
  name: r.name,
  createdAt: r.created_at,
  confirmedAt: r.confirmed_at,
  lastUsedAt: r.last_used_at,
  totp:
    r.kind === 'totp' && r.totp_secret !== null
      ? { sealedSecret: r.totp_secret, lastStep: r.totp_last_step }
      : null,
  webauthn:
    r.kind === 'webauthn' && r.credential_id !== null && r.public_key !== null
      ? {
          credentialId: r.credential_id,
          publicKey: r.public_key,
          signCount: r.sign_count ?? 0,
          transports: r.transports ? (JSON.parse(r.transports) as string[]) : [],
          discoverable: r.discoverable === true || r.discoverable === 1,
        }
      : null,
});
