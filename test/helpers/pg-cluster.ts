// A private PostgreSQL server for fault tests: its own data directory and port, so a test can really stop it,
// start it again or cut it off without touching the shared server every other test uses.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './cli.ts';
import { tempDir } from './gateway.ts';
import { until } from './until.ts';

/** The server binaries of the newest installed PostgreSQL (Debian's layout), or null when there are none. */
export function postgresBinaries(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

export interface PgCluster {
  /** A URL for the database `test` on this server. */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Ends every connection to this server but the caller's (as an operator's pg_terminate_backend would). */
  terminateConnections(): Promise<number>;
  destroy(): Promise<void>;
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = postgresBinaries();
  if (!bin) throw new Error('no PostgreSQL server binaries found');
  const dir = tempDir('hgw-pg-');
  const data = join(dir, 'data');
  // The server refuses to run as root: run it as the `postgres` account then, which must own its files.
  const owner =
    process.getuid?.() === 0
      ? {
          uid: Number(execFileSync('id', ['-u', 'postgres']).toString()),
          gid: Number(execFileSync('id', ['-g', 'postgres']).toString()),
        }
      : {};
  if (owner.uid !== undefined) chownSync(dir, owner.uid, owner.gid as number);
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    {
      stdio: 'ignore',
      ...owner,
    },
  );
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/test`;
  let server: ChildProcess | null = null;

  const ping = async () => {
    const c = new pg.Client({
      connectionString: url.replace(/\/test$/, '/postgres'),
      connectionTimeoutMillis: 1000,
    });
    try {
      await c.connect();
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => {});
    }
  };

  const cluster: PgCluster = {
    url,
    async start() {
      if (server !== null && server.exitCode === null) return;
      const args = [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
      ];
      server = spawn(join(bin, 'postgres'), args, { stdio: 'ignore', ...owner });
      await until(ping, { what: 'the private PostgreSQL server accepts connections', timeoutMs: 20_000 });
    },
    async stop() {
      const s = server;
      server = null;
      if (!s || s.exitCode !== null) return;
      const exited = new Promise((r) => s.once('exit', r));
      // SIGINT is a fast shutdown: every session is ended at once, as when a database server goes down.
      s.kill('SIGINT');
      await exited;
    },
    async terminateConnections() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const { rows } = await c.query(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
            WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        );
        return Number(rows[0].n);
      } finally {
        await c.end();
      }
    },
    async destroy() {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  const c = new pg.Client({ connectionString: url.replace(/\/test$/, '/postgres') });
  await c.connect();
  await c.query('CREATE DATABASE test');
  await c.end();
  return cluster;
}
