// The gateway's bearer and local routes with a PostgreSQL store, beside the same routes with the default config's
// SQLite store: two more rows of the main table, and a paired comparison (bench/paired.ts) in which each
// PostgreSQL route is loaded at the same moment as its SQLite twin, so PG/SQLite is read on one and the same
// machine. The PostgreSQL gateway is the same default config with only `[store] url` (and the secret such a
// store requires) changed, in a throwaway database (bench/pg-database.ts); it starts afresh every round like
// the other Node processes, and its local route's session comes from a real sign-in through it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomSecret } from '../src/crypto/tokens.ts';
import { benchConfig, PASSWORD, seedAccount } from './account.ts';
import { fmt } from './load.ts';
import { type PairResult, type PairTarget, type PairTiming, pairWith } from './paired.ts';
import { createBenchDatabase } from './pg-database.ts';
import { startServe } from './processes.ts';
import { signIn, signInForm } from './signin.ts';

/** Each PostgreSQL row and the SQLite row it is judged against. */
export const PG_TWINS = [
  ['gateway bearer, postgres', 'gateway bearer'],
  ['gateway local, postgres', 'gateway local'],
] as const;
export const PG_ROWS: string[] = PG_TWINS.map(([pg]) => pg);
/** The targets against the same route on SQLite, paired: req/s at least 0.9×, p99 at most 1.1×. */
const PG_TARGET_RPS = 0.9;
const PG_TARGET_P99 = 1.1;

/** What stays for the whole run: the database, with the bench account in it, and the config. */
export interface PostgresFixed {
  home: string;
  toml: string;
  username: string;
  token: string;
  /** The local route's session cookie, from the first round's sign-in. */
  session: string | null;
}

/**
 * Creates the database and seeds the account; null when no PostgreSQL server is usable. What must be undone
 * (closing the seeding store, dropping the database) goes onto `cleanups`, which run in reverse order.
 */
export async function startPostgresFixed(
  dir: string,
  upstreamUrl: string,
  cleanups: Array<() => unknown>,
): Promise<PostgresFixed | null> {
  const db = await createBenchDatabase();
  if (db === null) return null;
  cleanups.push(db.drop);
  const home = join(dir, 'postgres');
  mkdirSync(home, { recursive: true });
  const toml = benchConfig(home, upstreamUrl, { url: db.url, secret: randomSecret(32) });
  writeFileSync(join(home, 'bench.toml'), toml);
  const { username, token, close } = await seedAccount(toml, join(home, 'bench.toml'));
  cleanups.push(close);
  return { home, toml, username, token, session: null };
}

/** This round's PostgreSQL gateway (its stop goes onto `stops`) and its two rows' targets. */
export async function startPostgresRound(
  pg: PostgresFixed,
  stops: Array<() => Promise<void>>,
): Promise<PairTarget[]> {
  const gw = await startServe(join(pg.home, 'bench.toml'), join(pg.home, 'access.log'));
  stops.push(gw.stop);
  pg.session ??= await signIn(await signInForm(gw.url, pg.username, PASSWORD));
  return [
    {
      name: 'gateway bearer, postgres',
      url: `${gw.url}/api`,
      headers: { authorization: `Bearer ${pg.token}` },
      pid: gw.pid,
    },
    { name: 'gateway local, postgres', url: `${gw.url}/app`, headers: { cookie: pg.session }, pid: gw.pid },
  ];
}

/** One round of the paired PG/SQLite comparison, the twins in an order rotated by round. */
export async function pairTwins(
  target: (name: string) => PairTarget,
  timing: PairTiming,
  round: number,
  onSlice: (what: string, slice: number) => void,
): Promise<PairResult[]> {
  const results: PairResult[] = [];
  for (let k = 0; k < PG_TWINS.length; k++) {
    const [pg, sqlite] = PG_TWINS[(k + round) % PG_TWINS.length]!;
    const what = `${pg} and ${sqlite} loaded together`;
    results.push(await pairWith(target(sqlite), target(pg), timing, (i) => onSlice(what, i)));
  }
  return results;
}

export function postgresVerdicts(paired: PairResult[]) {
  return PG_TWINS.map(([pg, sqlite]) => {
    const r = paired.find((x) => x.name === pg) ?? { rps: Number.NaN, p99: Number.NaN, cpu: null };
    const pass = r.rps >= PG_TARGET_RPS && r.p99 <= PG_TARGET_P99;
    return { route: pg, against: sqlite, rps: r.rps, p99: r.p99, cpu: r.cpu, pass };
  });
}

export const postgresTargets = { rpsAtLeast: PG_TARGET_RPS, p99AtMost: PG_TARGET_P99 };

export function printPostgres(
  paired: PairResult[],
  s: { connections: number; slices: number; duration: number; warmup: number },
): void {
  console.log(
    `\npostgres vs sqlite, paired: each route on a PostgreSQL store loaded at the same moment as the same route ` +
      `on SQLite (the default config otherwise), ${s.connections} connections each, ${s.slices} × ${s.duration}s ` +
      `per round after ${s.warmup}s warm-up (medians over rounds; CPU/req counts the gateway processes only, ` +
      'not the PostgreSQL server)',
  );
  console.log(`${'ratio'.padEnd(42)}${'req/s'.padStart(8)}${'p99'.padStart(8)}${'CPU/req'.padStart(9)}`);
  for (const v of postgresVerdicts(paired)) {
    const cells = [
      fmt(v.rps, 3).padStart(8),
      fmt(v.p99, 3).padStart(8),
      fmt(v.cpu ?? Number.NaN, 3).padStart(9),
    ];
    const flagged = paired.find((r) => r.name === v.route)?.flagged ? '  FLAGGED' : '';
    console.log(
      `${`${v.route} / ${v.against}`.padEnd(42)}${cells.join('')}  ${v.pass ? 'PASS' : 'BELOW'}${flagged}`,
    );
  }
  console.log(`targets: req/s ≥ ${PG_TARGET_RPS}× SQLite, p99 ≤ ${PG_TARGET_P99}× SQLite`);
}
