// Second factors and recovery codes in PostgreSQL. Each check that must happen once is one conditional UPDATE
// (read committed re-evaluates its WHERE on the newest row version), so two requests with the same TOTP code or
// recovery code cannot both pass.
import type pg from 'pg';
import { newId } from '../../crypto/tokens.ts';
import { type SecondFactorStore, StoreConflictError } from '../../ports/store.ts';
import { SECOND_FACTOR_COLUMNS, type SecondFactorRow, toSecondFactor } from '../second-factor-rows.ts';
import { uniqueViolation } from './db.ts';
import { inTransaction } from './tx.ts';

const INSERT = `INSERT INTO second_factors (id, user_id, kind, name, created_at, confirmed_at, totp_secret,
    credential_id, public_key, sign_count, transports, discoverable)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`;
const BY_ID = `SELECT ${SECOND_FACTOR_COLUMNS} FROM second_factors WHERE id = $1`;
const BY_CREDENTIAL = `SELECT ${SECOND_FACTOR_COLUMNS} FROM second_factors WHERE credential_id = $1`;
const FOR_USER = `SELECT ${SECOND_FACTOR_COLUMNS} FROM second_factors WHERE user_id = $1 ORDER BY created_at, id`;
const USE_STEP = `UPDATE second_factors SET totp_last_step = $2, last_used_at = $3
  WHERE id = $1 AND kind = 'totp' AND confirmed_at IS NOT NULL
    AND (totp_last_step IS NULL OR totp_last_step < $2)`;
const USE_CREDENTIAL = `UPDATE second_factors SET sign_count = $2, last_used_at = $3
  WHERE id = $1 AND kind = 'webauthn' AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`;
const USE_CODE = `UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`;

export function pgSecondFactors(pool: pg.Pool): SecondFactorStore {
  const one = async (sql: string, arg: string) => {
    const row = (await pool.query<SecondFactorRow>(sql, [arg])).rows[0];
    return row ? toSecondFactor(row) : null;
  };
  const changed = async (sql: string, args: unknown[]) => ((await pool.query(sql, args)).rowCount ?? 0) > 0;

  return {
    async create(f, now) {
      const id = newId('mfa');
      const c = f.kind === 'webauthn' ? f.credential : null;
      try {
        await pool.query(INSERT, [
          id,
          f.userId,
          f.kind,
          f.name,
          now,
          f.kind === 'webauthn' ? f.confirmedAt : null,
          f.kind === 'totp' ? f.sealedSecret : null,
          c?.credentialId ?? null,
          c?.publicKey ?? null,
          c?.signCount ?? null,
          c ? JSON.stringify(c.transports) : null,
          c ? c.discoverable : null,
        ]);
      } catch (err) {
        if (uniqueViolation(err)) throw new StoreConflictError('credential_id');
        throw err;
      }
      return (await one(BY_ID, id)) as NonNullable<Awaited<ReturnType<typeof one>>>;
    },
    async listForUser(userId) {
      return (await pool.query<SecondFactorRow>(FOR_USER, [userId])).rows.map(toSecondFactor);
    },
    byId: (id) => one(BY_ID, id),
    byCredentialId: (credentialId) => one(BY_CREDENTIAL, credentialId),
    confirm: (id, userId, now) =>
      changed(
        'UPDATE second_factors SET confirmed_at = $3 WHERE id = $1 AND user_id = $2 AND confirmed_at IS NULL',
        [id, userId, now],
      ),
    rename: (id, userId, name) =>
      changed('UPDATE second_factors SET name = $3 WHERE id = $1 AND user_id = $2', [id, userId, name]),
    remove: (id, userId) =>
      changed('DELETE FROM second_factors WHERE id = $1 AND user_id = $2', [id, userId]),
    async removeAllForUser(userId) {
      return inTransaction(pool, async (c) => {
        await c.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
        return (await c.query('DELETE FROM second_factors WHERE user_id = $1', [userId])).rowCount ?? 0;
      });
    },
    useTotpStep: (id, step, now) => changed(USE_STEP, [id, step, now]),
    useCredential: (id, signCount, now) => changed(USE_CREDENTIAL, [id, signCount, now]),
    async replaceRecoveryCodes(userId, hashes, now) {
      await inTransaction(pool, async (c) => {
        await c.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
        for (const h of hashes)
          await c.query('INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)', [
            userId,
            h,
            now,
          ]);
      });
    },
    useRecoveryCode: (userId, hash, now) => changed(USE_CODE, [userId, hash, now]),
    async recoveryCodesLeft(userId) {
      const { rows } = await pool.query<{ n: number }>(
        'SELECT COUNT(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL',
        [userId],
      );
      return rows[0]?.n ?? 0;
    },
  };
}
