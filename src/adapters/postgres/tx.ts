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
  return withClient(pool, async (client) => {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
  });
}

/**
 * Runs `fn` on one checked-out client. The pool stops listening for a client's errors while it is checked out:
 * without a listener here, a connection that dies mid-transaction (a restart, pg_terminate_backend) would be an
 * unhandled 'error' event and end the process. A client whose connection failed is destroyed, not reused.
 */
export async function withClient<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (err) {
    // A failed ROLLBACK (inside fn) means the connection itself is gone: never hand it out again.
    broken ??= (err as { code?: string }).code === undefined ? (err as Error) : undefined;
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
