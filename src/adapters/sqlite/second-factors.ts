// Second factors and recovery codes in SQLite. One statement (or one transaction) per check that must happen
// once: a TOTP step, a WebAuthn counter and a recovery code are each accepted by a conditional UPDATE.
import { newId } from '../../crypto/tokens.ts';
import { type SecondFactorStore, StoreConflictError } from '../../ports/store.ts';
import { SECOND_FACTOR_COLUMNS, type SecondFactorRow, toSecondFactor } from '../second-factor-rows.ts';
import { type Db, uniqueViolation } from './db.ts';

export function sqliteSecondFactors(db: Db): SecondFactorStore {
  const insert = db.prepare(
    `INSERT INTO second_factors (id, user_id, kind, name, created_at, confirmed_at, totp_secret, credential_id,
       public_key, sign_count, transports, discoverable)
     VALUES (@id, @userId, @kind, @name, @now, @confirmedAt, @totpSecret, @credentialId, @publicKey, @signCount,
       @transports, @discoverable)`,
  );
  const byId = db.prepare(`SELECT ${SECOND_FACTOR_COLUMNS} FROM second_factors WHERE id = ?`);
  const byCredential = db.prepare(
    `SELECT ${SECOND_FACTOR_COLUMNS} FROM second_factors WHERE credential_id = ?`,
  );
  const forUser = db.prepare(
    `SELECT ${SECOND_FACTOR_COLUMNS} FROM second_factors WHERE user_id = ? ORDER BY created_at, id`,
  );
  const confirm = db.prepare(
    'UPDATE second_factors SET confirmed_at = ? WHERE id = ? AND user_id = ? AND confirmed_at IS NULL',
  );
  const rename = db.prepare('UPDATE second_factors SET name = ? WHERE id = ? AND user_id = ?');
  const remove = db.prepare('DELETE FROM second_factors WHERE id = ? AND user_id = ?');
  const removeFactors = db.prepare('DELETE FROM second_factors WHERE user_id = ?');
  const removeCodes = db.prepare('DELETE FROM recovery_codes WHERE user_id = ?');
  const useStep = db.prepare(
    `UPDATE second_factors SET totp_last_step = @step, last_used_at = @now
     WHERE id = @id AND kind = 'totp' AND confirmed_at IS NOT NULL
       AND (totp_last_step IS NULL OR totp_last_step < @step)`,
  );
  const useCredential = db.prepare(
    `UPDATE second_factors SET sign_count = @count, last_used_at = @now
     WHERE id = @id AND kind = 'webauthn' AND (sign_count < @count OR (sign_count = 0 AND @count = 0))`,
  );
  const addCode = db.prepare('INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)');
  const useCode = db.prepare(
    'UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL',
  );
  const codesLeft = db
    .prepare('SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL')
    .pluck();
  const replaceCodes = db.transaction((userId: string, hashes: readonly string[], now: number) => {
    removeCodes.run(userId);
    for (const h of hashes) addCode.run(userId, h, now);
  });
  const removeAll = db.transaction((userId: string) => {
    removeCodes.run(userId);
    return removeFactors.run(userId).changes;
  });
  const one = (row: unknown) => (row ? toSecondFactor(row as SecondFactorRow) : null);

  return {
    async create(f, now) {
      const id = newId('mfa');
      const c = f.kind === 'webauthn' ? f.credential : null;
      try {
        insert.run({
          id,
          userId: f.userId,
          kind: f.kind,
          name: f.name,
          now,
          confirmedAt: f.kind === 'webauthn' ? f.confirmedAt : null,
          totpSecret: f.kind === 'totp' ? f.sealedSecret : null,
          credentialId: c?.credentialId ?? null,
          publicKey: c?.publicKey ?? null,
          signCount: c?.signCount ?? null,
          transports: c ? JSON.stringify(c.transports) : null,
          discoverable: c ? (c.discoverable ? 1 : 0) : null,
        });
      } catch (err) {
        if (uniqueViolation(err)) throw new StoreConflictError('credential_id');
        throw err;
      }
      return one(byId.get(id)) as NonNullable<ReturnType<typeof one>>;
    },
    async listForUser(userId) {
      return (forUser.all(userId) as SecondFactorRow[]).map(toSecondFactor);
    },
    async byId(id) {
      return one(byId.get(id));
    },
    async byCredentialId(credentialId) {
      return one(byCredential.get(credentialId));
    },
    async confirm(id, userId, now) {
      return confirm.run(now, id, userId).changes > 0;
    },
    async rename(id, userId, name) {
      return rename.run(name, id, userId).changes > 0;
    },
    async remove(id, userId) {
      return remove.run(id, userId).changes > 0;
    },
    async removeAllForUser(userId) {
      return removeAll.immediate(userId);
    },
    async useTotpStep(id, step, now) {
      return useStep.run({ id, step, now }).changes > 0;
    },
    async useCredential(id, signCount, now) {
      return useCredential.run({ id, count: signCount, now }).changes > 0;
    },
    async replaceRecoveryCodes(userId, hashes, now) {
      replaceCodes.immediate(userId, hashes, now);
    },
    async useRecoveryCode(userId, hash, now) {
      return useCode.run(now, userId, hash).changes > 0;
    },
    async recoveryCodesLeft(userId) {
      return codesLeft.get(userId) as number;
    },
  };
}
