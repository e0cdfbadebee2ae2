// The store's concurrency promises, checked with real parallelism (RacePool): each race runs for a number of
// rounds on a fresh store (a SQLite file or a PostgreSQL database) and returns what went wrong, so the same code can assert "never" against the
// adapter and "caught" against the deliberately broken variants (mutants.ts).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createPostgresStore } from '../../src/adapters/postgres/index.ts';
import { createSqliteStore } from '../../src/adapters/sqlite/index.ts';
import { hashToken } from '../../src/crypto/tokens.ts';
import type { Store } from '../../src/ports/store.ts';
import { tempDir } from '../helpers/gateway.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import type { StoreVariant } from './mutants.ts';
import type { RacePool } from './race-pool.ts';

const NOW = Date.UTC(2026, 0, 1);
const SECRET = 'race-secret-race-secret-race-secret-race';

export type RaceBackend = 'sqlite' | 'postgres';

/** A fresh migrated store, opened by the test (for setup and checks) and by every contender (as `variant`). */
async function withStore<T>(
  pool: RacePool,
  variant: StoreVariant,
  body: (store: Store) => Promise<T>,
): Promise<T> {
  const clock = { now: () => NOW };
  let target: string;
  let store: Store;
  let drop: () => Promise<void>;
  if (pool.backend === 'postgres') {
    const db = await createTestDatabase();
    target = db.url;
    store = await createPostgresStore({ url: target, clock });
    drop = db.drop;
  } else {
    const dir = tempDir('hgw-race-');
    target = join(dir, 'race.db');
    store = createSqliteStore({ path: target, clock });
    drop = async () => rmSync(dir, { recursive: true, force: true });
  }
  try {
    await pool.open(target, NOW, variant);
    return await body(store);
  } finally {
    await pool.closeStores();
    await store.close();
    await drop();
  }
}

/** Each round: `tokens` one-time tokens, every contender consumes each. A token with ≠ 1 winner is a violation. */
export function consumeRace(
  pool: RacePool,
  variant: StoreVariant,
  rounds: number,
  tokens = 20,
): Promise<string[]> {
  return withStore(pool, variant, async (store) => {
    const violations: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const hashes = Array.from({ length: tokens }, (_, i) => `race-${r}-${i}`);
      for (const tokenHash of hashes)
        await store.oneTimeTokens.create({
          tokenHash,
          purpose: 'setup',
          userId: null,
          email: null,
          payload: null,
          expiresAt: NOW + 60_000,
        });
      const won = (await pool.race(() => ({ kind: 'consume', hashes, now: NOW }))) as boolean[][];
      hashes.forEach((hash, i) => {
        const winners = won.filter((w) => w[i]).length;
        if (winners !== 1) violations.push(`${hash}: ${winners} winners`);
      });
    }
    return violations;
  });
}

/**
 * Each round: every contender charges one key `attempts` times; the key blocks from `limit` failures on.
 * Exactly `limit` attempts may get in, and the stored counter must say `limit`.
 */
export function chargeRace(
  pool: RacePool,
  variant: StoreVariant,
  rounds: number,
  limit = 8,
  attempts = 6,
): Promise<string[]> {
  return withStore(pool, variant, async (store) => {
    const violations: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const key = `ip:race-${r}`;
      const got = (await pool.race(() => ({ kind: 'charge', key, limit, attempts, now: NOW }))) as number[];
      const admitted = got.reduce((a, b) => a + b, 0);
      const counted = (await store.throttles.get([key])).get(key)?.failures;
      if (admitted !== limit || counted !== limit)
        violations.push(`${key}: ${admitted} admitted, ${counted} counted, limit ${limit}`);
    }
    return violations;
  });
}

/** Each round: every contender adds `attempts` to one counter; none may be lost. */
export function updateRace(
  pool: RacePool,
  variant: StoreVariant,
  rounds: number,
  attempts = 20,
): Promise<string[]> {
  return withStore(pool, variant, async (store) => {
    const violations: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const key = `account:race-${r}`;
      await pool.race(() => ({ kind: 'update', key, attempts, now: NOW }));
      const counted = (await store.throttles.get([key])).get(key)?.failures;
      if (counted !== attempts * pool.size)
        violations.push(`${key}: ${counted} counted of ${attempts * pool.size}`);
    }
    return violations;
  });
}

/** Each round: every contender creates the same username (distinct emails): one creates, the rest conflict. */
export function usernameRace(pool: RacePool, variant: StoreVariant, rounds: number): Promise<string[]> {
  return withStore(pool, variant, async (store) => {
    const violations: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const username = `racer${r}`;
      const got = await pool.race((i) => ({
        kind: 'create-user',
        username,
        email: `r${r}-${i}@example.com`,
      }));
      const created = got.filter((g) => g === 'created').length;
      const conflicts = got.filter((g) => g === 'conflict:username').length;
      if (created !== 1 || conflicts !== pool.size - 1) violations.push(`${username}: ${got.join(', ')}`);
      if ((await store.users.list()).filter((u) => u.username === username).length !== 1)
        violations.push(`${username}: stored ${created} times`);
    }
    return violations;
  });
}

/** Each round, on a store without keys: every contender adds a first key. Exactly one may be stored. */
export function firstKeyRace(pool: RacePool, variant: StoreVariant, rounds: number): Promise<string[]> {
  return withStore(pool, variant, async (store) => {
    const violations: string[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const k of await store.signingKeys.list()) await store.signingKeys.remove(k.kid);
      const won = (await pool.race((i) => ({
        kind: 'first-signing-key',
        kid: `key-${r}-${i}`,
        now: NOW,
      }))) as boolean[];
      const stored = (await store.signingKeys.list()).map((k) => k.kid);
      const winners = won.flatMap((w, i) => (w ? [`key-${r}-${i}`] : []));
      if (winners.length !== 1 || stored.length !== 1 || stored[0] !== winners[0])
        violations.push(`round ${r}: won by ${winners.join(', ') || 'nobody'}, stored ${stored.join(', ')}`);
    }
    return violations;
  });
}

/**
 * Each round, on a store without users or setup link: every contender starts like an instance. All must print
 * the same token, and it must be the one live setup link (exactly one stored).
 */
export function setupLinkRace(pool: RacePool, variant: StoreVariant, rounds: number): Promise<string[]> {
  return withStore(pool, variant, async (store) => {
    const violations: string[] = [];
    for (let r = 0; r < rounds; r++) {
      await store.oneTimeTokens.deletePurpose('setup');
      const tokens = (await pool.race(() => ({ kind: 'setup-link', secret: SECRET, now: NOW }))) as string[];
      const distinct = new Set(tokens);
      const live = await store.oneTimeTokens.peek(hashToken(tokens[0] ?? ''), 'setup', NOW);
      const rows = await store.oneTimeTokens.deletePurpose('setup');
      if (distinct.size !== 1 || live === null || rows !== 1)
        violations.push(
          `round ${r}: ${distinct.size} different links, ${rows} stored, first ${live ? 'live' : 'dead'}`,
        );
    }
    return violations;
  });
}
