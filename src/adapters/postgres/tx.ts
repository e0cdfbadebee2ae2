// Transactions on the pool: one client for the whole unit of work, committed or rolled back as one.
import type pg from 'pg';

/** What a table module runs its statements on: the pool, or the client of an enclosing transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/**
 * Runs `fn` in one transaction. Rows that a read-modify-write depends on are locked by `fn` itself
 * (`SELECT … FOR UPDATE`), or the statement is a single atomic UPDATE … RETURNING: PostgreSQL's default
 * isolation (read committed) does not serialize two transactions that only read first.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
