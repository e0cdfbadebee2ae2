// Assertion signing keys in PostgreSQL. The private half arrives sealed and is stored as it came; adding the
// first key holds a table lock, so instances starting together on an empty database store exactly one.
import type pg from 'pg';
import { type SigningKeyStore, StoreConflictError, type StoredSigningKey } from '../../ports/store.ts';
import { type SigningKeyRow, toKey } from '../signing-key-rows.ts';
import { uniqueViolation } from './db.ts';
import { inTransaction, type Queryable } from './tx.ts';

const LIST = `SELECT kid, created_at, active_from, public_jwk, sealed_private_jwk FROM signing_keys
  ORDER BY active_from, kid`;

const INSERT = `INSERT INTO signing_keys (kid, created_at, active_from, public_jwk, sealed_private_jwk)
  VALUES ($1, $2, $3, $4, $5)`;

async function insert(q: Queryable, k: StoredSigningKey): Promise<void> {
  await q.query(INSERT, [k.kid, k.createdAt, k.activeFrom, JSON.stringify(k.publicJwk), k.sealedPrivateJwk]);
}

export function pgSigningKeys(pool: pg.Pool): SigningKeyStore {
  return {
    async list() {
      return (await pool.query<SigningKeyRow>(LIST)).rows.map(toKey);
    },
    async addIfEmpty(keys) {
      return inTransaction(pool, async (c) => {
        // Read committed does not stop two transactions from both finding the table empty. SHARE ROW
        // EXCLUSIVE conflicts with itself (and with writes), not with plain reads: instances starting together
        // take turns here, and each after the first sees the key the first committed.
        await c.query('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
        if ((await c.query('SELECT 1 FROM signing_keys LIMIT 1')).rows.length > 0) return false;
        for (const k of keys) await insert(c, k);
        return true;
      });
    },
    async add(key) {
      try {
        await insert(pool, key);
      } catch (err) {
        if (uniqueViolation(err)) throw new StoreConflictError('kid');
        throw err;
      }
    },
    async remove(kid) {
      return ((await pool.query('DELETE FROM signing_keys WHERE kid = $1', [kid])).rowCount ?? 0) > 0;
    },
  };
}
