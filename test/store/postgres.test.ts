// The store conformance suite against PostgreSQL: a fresh database per test, migrated, dropped afterwards.
import { createPostgresStore } from '../../src/adapters/postgres/index.ts';
import { TestClock } from '../helpers/gateway.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { storeConformance } from './conformance.ts';

storeConformance('postgres', async () => {
  const db = await createTestDatabase();
  const clock = new TestClock();
  const store = await createPostgresStore({ url: db.url, clock });
  return {
    store,
    clock,
    async cleanup() {
      await store.close();
      await db.drop();
    },
  };
});
