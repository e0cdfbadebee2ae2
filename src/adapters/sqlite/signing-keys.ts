// Assertion signing keys in SQLite. The private half arrives sealed and is stored as it came; adding the first
// key is one IMMEDIATE transaction, so processes starting together on an empty store store exactly one.
import { type SigningKeyStore, StoreConflictError, type StoredSigningKey } from '../../ports/store.ts';
import { type SigningKeyRow, toKey } from '../signing-key-rows.ts';
import { type Db, uniqueViolation } from './db.ts';

const toRow = (k: StoredSigningKey): SigningKeyRow => ({
  kid: k.kid,
  created_at: k.createdAt,
  active_from: k.activeFrom,
  public_jwk: JSON.stringify(k.publicJwk),
  sealed_private_jwk: k.sealedPrivateJwk,
});

export function sqliteSigningKeys(db: Db): SigningKeyStore {
  const list = db.prepare(
    `SELECT kid, created_at, active_from, public_jwk, sealed_private_jwk FROM signing_keys
     ORDER BY active_from, kid`,
  );
  const insert = db.prepare(
    `INSERT INTO signing_keys (kid, created_at, active_from, public_jwk, sealed_private_jwk)
     VALUES (@kid, @created_at, @active_from, @public_jwk, @sealed_private_jwk)`,
  );
  const any = db.prepare('SELECT 1 FROM signing_keys LIMIT 1').pluck();
  const remove = db.prepare('DELETE FROM signing_keys WHERE kid = ?');
  const addIfEmpty = db.transaction((keys: readonly StoredSigningKey[]) => {
    if (any.get() !== undefined) return false;
    for (const k of keys) insert.run(toRow(k));
    return true;
  });
  return {
    async list() {
      return (list.all() as SigningKeyRow[]).map(toKey);
    },
    async addIfEmpty(keys) {
      // IMMEDIATE takes the write lock at BEGIN, before the emptiness check: two processes can never both
      // find the table empty and each store a different first key.
      return addIfEmpty.immediate(keys);
    },
    async add(key) {
      try {
        insert.run(toRow(key));
      } catch (err) {
        if (uniqueViolation(err)) throw new StoreConflictError('kid');
        throw err;
      }
    },
    async remove(kid) {
      return remove.run(kid).changes > 0;
    },
  };
}
