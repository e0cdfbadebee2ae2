// Reading a test gateway's store with SQL, whichever backend it is (the backend matrix runs the same feature
// tests on SQLite and PostgreSQL): for assertions about what is stored, e.g. that a secret is sealed at rest.
// Plain SELECTs only, written in the SQL both dialects share.
import Database from 'better-sqlite3';
import pg from 'pg';

export async function storeRows<T = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}
