// One instance starting: opens a pool on argv[2], waits for the go time in argv[3], migrates, and prints what
// it applied as JSON. Run by postgres-migrate.test.ts, several at once.
import { createPool, migrate } from '../../src/adapters/postgres/db.ts';

const [url, at] = process.argv.slice(2) as [string, string];
const pool = createPool(url, { max: 1 });
await pool.query('SELECT 1'); // connected before the start line, so all of them race from the same moment
await new Promise((r) => setTimeout(r, Math.max(0, Number(at) - Date.now())));
const applied = await migrate(pool, Date.now());
process.stdout.write(JSON.stringify(applied));
await pool.end();
