// The throughput stage's targets (bench/run.ts): what stays up for the whole run (the upstream, nginx, Apache,
// the store's bench account, the PostgreSQL twin of two routes) and the Node processes started afresh for each
// round (the bare proxies, the gateways), each checked to answer as it should before anything is measured.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchConfig, PASSWORD, seedAccount } from './account.ts';
import { startApache } from './apache.ts';
import { startNginx } from './nginx.ts';
import type { PairTarget } from './paired.ts';
import { PG_ROWS, type PostgresFixed, startPostgresFixed, startPostgresRound } from './postgres-rows.ts';
import { startBareProxy, startServe, startUpstream } from './processes.ts';
import { type SignInForm, signIn, signInForm } from './signin.ts';
import { startWorkerGateways } from './workers.ts';

export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The serving process, for its CPU time per request. */
  pid?: number | undefined;
}

export async function expectStatus(t: Target, status: number, headers = t.headers, what = ''): Promise<void> {
  const res = await fetch(t.url, { headers });
  await res.arrayBuffer();
  if (res.status !== status)
    throw new Error(
      `${t.name}${what ? ` (${what})` : ''}: GET ${t.url} answered ${res.status}, expected ${status}`,
    );
}

export function named<T extends { name: string }>(list: T[], name: string): T {
  const found = list.find((t) => t.name === name);
  if (!found) throw new Error(`no bench target "${name}"`);
  return found;
}

/** The default-config gateway's log file, in the run's directory. */
export const ACCESS_LOG = 'access.log';
/** The paired comparison's control: a second, identical bare proxy. */
export const CONTROL = 'bare proxy, second process';

/** What stays up for the whole run: the upstream, the store's bench account, nginx, Apache, the PostgreSQL twin. */
export interface Fixed {
  dir: string;
  upstreamUrl: string;
  toml: string;
  username: string;
  token: string;
  ssoToken: string;
  targets: Target[];
  /** The local route's session cookie: made once through the real sign-in, valid in every later process. */
  session: string | null;
  /** The PostgreSQL twin of the gateway's bearer and local routes; null without a PostgreSQL server. */
  pg: PostgresFixed | null;
}

/** Starts what stays up; what must be undone goes onto `cleanups` (run in reverse order). */
export async function startFixed(dir: string, cleanups: Array<() => unknown>): Promise<Fixed> {
  // The upstream runs in its own process, so its work is not counted inside either proxy's numbers.
  const upstream = await startUpstream();
  cleanups.push(upstream.stop);
  const upstreamUrl = upstream.url;

  const toml = benchConfig(dir, upstreamUrl);
  const { username, token, ssoToken, close } = await seedAccount(toml, join(dir, 'bench.toml'));
  cleanups.push(close);
  const targets: Target[] = [
    { name: 'direct upstream', url: `${upstreamUrl}/`, headers: {}, pid: upstream.pid },
  ];
  const nginx = await startNginx(upstreamUrl, dir);
  if (nginx) {
    cleanups.push(nginx.stop);
    targets.push({ name: 'nginx', url: nginx.url, headers: {}, pid: nginx.pid });
  }
  const apache = await startApache(upstreamUrl);
  if (apache) {
    cleanups.push(apache.stop);
    targets.push(apache);
  }
  const pg = await startPostgresFixed(dir, upstreamUrl, cleanups);
  return { dir, upstreamUrl, toml, username, token, ssoToken, targets, session: null, pg };
}

/**
 * The Node processes under comparison, started afresh for each round: the same code and config has been seen
 * to run at quite different CPU cost per request from one start to the next on a small shared machine (the
 * bare proxy too), so one start per round makes each reported median a median over starts, not one draw.
 */
export async function startRound(fixed: Fixed, round: number): Promise<Round> {
  const { dir, upstreamUrl, toml } = fixed;
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    await Promise.all(stops.map((s) => s()));
  };
  try {
    const bare = await startBareProxy(upstreamUrl);
    stops.push(bare.stop);
    // The paired comparison's control: a second, identical bare proxy.
    const control = await startBareProxy(upstreamUrl);
    stops.push(control.stop);
    // The default config (log_level info: one access line per request) and the same with log_level "warn",
    // each as `hero-gateway serve`, their stdout (the log) into files.
    const start = async (name: string, text: string, log: string) => {
      writeFileSync(join(dir, name), text);
      const gw = await startServe(join(dir, name), join(dir, log));
      stops.push(gw.stop);
      return gw;
    };
    const gateway = await start('bench.toml', toml, ACCESS_LOG);
    const quiet = await start(
      'quiet.toml',
      toml.replace('[server]\n', '[server]\nlog_level = "warn"\n'),
      'quiet.log',
    );
    const workers = await startWorkerGateways(upstreamUrl, join(dir, `round-${round}`));
    stops.push(workers.stop);
    const form = await signInForm(gateway.url, fixed.username, PASSWORD);
    // The local route's session comes from the real sign-in flow, as a browser gets it.
    fixed.session ??= await signIn(form);
    const gw = gateway.url;
    const targets: Target[] = [
      { name: 'bare proxy', url: `${bare.url}/`, headers: {}, pid: bare.pid },
      { name: 'gateway none, log warn', url: `${quiet.url}/open`, headers: {}, pid: quiet.pid },
      { name: 'gateway none', url: `${gw}/open`, headers: {}, pid: gateway.pid },
      {
        name: 'gateway bearer',
        url: `${gw}/api`,
        headers: { authorization: `Bearer ${fixed.token}` },
        pid: gateway.pid,
      },
      { name: 'gateway local', url: `${gw}/app`, headers: { cookie: fixed.session }, pid: gateway.pid },
      {
        name: 'gateway oauth',
        url: `${gw}/sso`,
        headers: { cookie: `__Host-hero_session=${fixed.ssoToken}` },
        pid: gateway.pid,
      },
      ...workers.targets,
      ...(fixed.pg ? await startPostgresRound(fixed.pg, stops) : []),
    ];
    const paired: PairTarget[] = [
      ...['none', 'bearer', 'local', 'oauth'].map((n) => named(targets, `gateway ${n}`)),
      { name: CONTROL, url: `${control.url}/`, headers: {}, pid: control.pid },
    ];
    for (const t of [...targets, ...paired]) await expectStatus(t, 200);
    // The bearer, local and oauth routes must really authenticate: without the credential it is a 401.
    const oauth = named(targets, 'gateway oauth');
    await expectStatus(named(targets, 'gateway bearer'), 401, {});
    await expectStatus(named(targets, 'gateway local'), 401, {});
    for (const t of targets.filter((x) => PG_ROWS.includes(x.name))) await expectStatus(t, 401, {});
    await expectStatus(oauth, 401, {});
    await expectStatus(oauth, 401, { cookie: fixed.session }, 'a password session on the oauth route');
    return { targets, paired, form, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface Round {
  targets: Target[];
  /** What is loaded at the same moment as the bare proxy: the gateway's routes and the control. */
  paired: PairTarget[];
  form: SignInForm;
  stop: () => Promise<void>;
}
