// PostgreSQL faults the store must survive without a restart and without vouching for anything it cannot see:
// a listener connection that goes silent (a network fault, not a closed socket) turns the version unknown,
// and a connection killed in the middle of a transaction fails that call — it never ends the process.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { PgAuthzListener } from '../../src/adapters/postgres/authz-listener.ts';
import { createPostgresStore } from '../../src/adapters/postgres/index.ts';
import { UNKNOWN_VERSION } from '../../src/ports/authz-versions.ts';
import type { Store } from '../../src/ports/store.ts';
import { TestClock } from '../helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { until } from '../helpers/until.ts';

/** A TCP relay to the database that can stop passing bytes while keeping both connections open. */
function stallableRelay(target: URL): Promise<{ url: string; stall(): void; close(): Promise<void> }> {
  let stalled = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (d) => stalled || upstream.write(d));
    upstream.on('data', (d) => stalled || client.write(d));
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const url = new URL(target);
      url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({
        url: url.toString(),
        stall: () => {
          stalled = true;
        },
        close: async () => {
          for (const s of sockets) s.destroy();
          await new Promise((r) => server.close(r));
        },
      });
    }),
  );
}

describe('postgres faults', () => {
  let db: TestDatabase;
  let store: Store;
  const clock = new TestClock();
  before(async () => {
    db = await createTestDatabase();
    store = await createPostgresStore({ url: db.url, clock });
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  test('a listener whose connection goes silent stops vouching for its version', async () => {
    const relay = await stallableRelay(new URL(db.url));
    const listener = new PgAuthzListener({ url: relay.url, checkMs: 200 });
    try {
      await listener.start();
      assert.equal(typeof listener.current(), 'number');
      relay.stall();
      // The socket stays open and nothing errors: only the unanswered check can tell.
      await until(() => listener.current() === UNKNOWN_VERSION, {
        what: 'the silent listener noticed',
        timeoutMs: 3000,
      });
    } finally {
      await listener.close();
      await relay.close();
    }
  });

  test('a connection killed inside a transaction fails that call, and the store goes on', async () => {
    const user = await store.users.create({ username: 'ann', email: 'ann@example.com', emailVerified: true });
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      // Another session holds the user's row, so the disable (one transaction) waits inside it.
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.id]);
      // The rejection is awaited from the start: the victim may fail before pg_terminate_backend's own answer
      // comes back, and a rejection nobody listens to yet would fail the test as unhandled.
      const disabling = assert.rejects(
        store.users.setDisabled(user.id, clock.now()),
        'the call fails rather than hanging or ending the process',
      );
      const waiting = async () =>
        (
          await holder.query(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )
        ).rows as { pid: number }[];
      await until(async () => (await waiting()).length > 0, { what: 'the disable waiting on the lock' });
      const [victim] = await waiting();
      await holder.query('SELECT pg_terminate_backend($1)', [victim!.pid]);
      await disabling;
      await holder.query('ROLLBACK');
      // The pool replaced the dead connection: the next calls work, and nothing was half-written.
      assert.equal((await store.users.byId(user.id))?.disabledAt, null);
      assert.equal(await store.users.setDisabled(user.id, clock.now()), true);
    } finally {
      await holder.end();
    }
  });
});
