// Password sign-in in the bench: a session through the real HTTP flow (GET the form, POST it), the latency of
// complete sign-ins, and the `local` route's throughput alone and while sign-ins run beside it.

import { request as httpRequest } from 'node:http';
import type { Result } from 'autocannon';
import { fmt, log, median, medianRow, type Row, runLoad, sum, toRow } from './load.ts';

// public_url defaults to http://localhost:8080, so the gateway's cookies carry the __Host- prefix.
export const SESSION_COOKIE = '__Host-hero_session';
const CSRF_COOKIE = '__Host-hero_csrf';
/** Concurrent sign-ins for the latency measurement. */
export const SIGNIN_CONNECTIONS = 4;
/** Concurrent sign-in loops running beside the proxied load. */
export const BACKGROUND_SIGNINS = 2;
/** Extra seconds the background sign-ins run, so they outlast the proxied run they accompany. */
const BACKGROUND_MARGIN = 1;

interface Reply {
  status: number;
  setCookies: string[];
  body: string;
}

function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<Reply>((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          setCookies: res.headers['set-cookie'] ?? [],
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function cookieFrom(setCookies: string[], name: string): string | null {
  for (const c of setCookies) {
    const [pair = ''] = c.split(';');
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq) === name && eq < pair.length - 1) return pair.slice(eq + 1);
  }
  return null;
}

/** A filled-in sign-in POST, as a browser would send it after loading the form. */
export interface SignInForm {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * GET /auth/login, then the POST that page's form makes: the CSRF cookie it set, its hidden `csrf` field and
 * the gateway's own Origin. The CSRF token is not single-use, so the same POST signs in again and again,
 * each time starting a new session.
 */
export async function signInForm(base: string, username: string, password: string): Promise<SignInForm> {
  const page = await send(`${base}/auth/login`, { headers: { accept: 'text/html' } });
  const csrfCookie = cookieFrom(page.setCookies, CSRF_COOKIE);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  if (page.status !== 200 || csrfCookie === null || csrf === undefined)
    throw new Error(
      `GET /auth/login answered ${page.status} (${CSRF_COOKIE} cookie: ${csrfCookie !== null}, ` +
        `csrf field: ${csrf !== undefined})`,
    );
  const body = new URLSearchParams({ csrf, username, password }).toString();
  return {
    url: `${base}/auth/login`,
    headers: {
      origin: new URL(base).origin,
      cookie: `${CSRF_COOKIE}=${csrfCookie}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'text/html',
      'user-agent': 'hero-bench',
    },
    body,
  };
}

/** One complete sign-in; returns the Cookie header that carries the new session. */
export async function signIn(form: SignInForm): Promise<string> {
  // autocannon adds Content-Length itself, so the form leaves it out (a duplicate would be a 400).
  const headers = { ...form.headers, 'content-length': String(Buffer.byteLength(form.body)) };
  const res = await send(form.url, { method: 'POST', headers, body: form.body });
  const token = cookieFrom(res.setCookies, SESSION_COOKIE);
  if (res.status !== 303 || token === null)
    throw new Error(
      `POST /auth/login answered ${res.status}, expected 303 with ${SESSION_COOKIE}` +
        (res.status === 303 ? '' : `: ${res.body.slice(0, 200)}`),
    );
  return `${SESSION_COOKIE}=${token}`;
}

/** Sign-in numbers from one run; every answer must be the 303 of a successful sign-in. */
export interface SignInRun {
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  signIns: number;
  /** Answers other than 303 (a 401, 403 or 429 would mean the sign-in did not happen). */
  wrong: number;
  errors: number;
  flagged: boolean;
}

function toSignInRun(connections: number, r: Result): SignInRun {
  const codes = Object.entries(r.statusCodeStats);
  const signIns = sum(codes.filter(([code]) => code === '303').map(([, s]) => s.count));
  const wrong = sum(codes.filter(([code]) => code !== '303').map(([, s]) => s.count));
  const errors = r.errors + r.timeouts;
  const { p50, p99, mean } = r.latency;
  return {
    connections,
    rps: r.requests.mean,
    p50,
    p99,
    mean,
    signIns,
    wrong,
    errors,
    flagged: wrong + errors > 0,
  };
}

const signIns = (form: SignInForm, connections: number, duration: number, overallRate?: number) =>
  runLoad({ ...form, method: 'POST', connections, duration, ...(overallRate ? { overallRate } : {}) });

/** A steady, realistic sign-in rate (a busy organisation's morning), beside the flat-out loops. */
export const PACED_SIGNINS_PER_S = 10;

export interface Proxied {
  url: string;
  headers: Record<string, string>;
  connections: number;
}

export interface SignInRound {
  signIn: SignInRun;
  alone: Row;
  during: Row;
  background: SignInRun;
  paced: Row;
}

/**
 * One round of the sign-in measurements: sign-in latency on its own, then the proxied `local` route alone and
 * with sign-ins running beside it (the order of those two alternates by round, so drift favours neither).
 */
export async function signInRound(
  form: SignInForm,
  local: Proxied,
  timing: { warmup: number; duration: number; round: number; rounds: number },
): Promise<SignInRound> {
  const { warmup, duration, round, rounds } = timing;
  const tag = `round ${round + 1}/${rounds}`;
  log(`${tag} sign-in: warm-up ${warmup}s, then ${duration}s × ${SIGNIN_CONNECTIONS} concurrent sign-ins`);
  await signIns(form, SIGNIN_CONNECTIONS, warmup);
  const signIn = toSignInRun(SIGNIN_CONNECTIONS, await signIns(form, SIGNIN_CONNECTIONS, duration));

  const proxied = async (name: string) => {
    await runLoad({ ...local, duration: warmup });
    return toRow(name, await runLoad({ ...local, duration }));
  };
  const alone = async () => {
    log(`${tag} local alone: warm-up ${warmup}s, then ${duration}s × ${local.connections} connections`);
    return proxied('local alone');
  };
  const during = async () => {
    log(`${tag} local during ${BACKGROUND_SIGNINS} sign-in loops: warm-up ${warmup}s, then ${duration}s`);
    const background = signIns(form, BACKGROUND_SIGNINS, warmup + duration + BACKGROUND_MARGIN);
    const row = await proxied('local during sign-ins');
    return { row, background: toSignInRun(BACKGROUND_SIGNINS, await background) };
  };
  const paced = async () => {
    log(`${tag} local during ${PACED_SIGNINS_PER_S} sign-ins/s: warm-up ${warmup}s, then ${duration}s`);
    const background = signIns(form, 2, warmup + duration + BACKGROUND_MARGIN, PACED_SIGNINS_PER_S);
    const row = await proxied('local during paced sign-ins');
    await background;
    return row;
  };
  if (round % 2 === 0) {
    const a = await alone();
    const d = await during();
    return { signIn, alone: a, during: d.row, background: d.background, paced: await paced() };
  }
  const p = await paced();
  const d = await during();
  const a = await alone();
  return { signIn, alone: a, during: d.row, background: d.background, paced: p };
}

function medianSignIn(rs: SignInRun[]): SignInRun {
  const m = (key: 'rps' | 'p50' | 'p99' | 'mean') => median(rs.map((r) => r[key]));
  return {
    connections: rs[0]?.connections ?? 0,
    rps: m('rps'),
    p50: m('p50'),
    p99: m('p99'),
    mean: m('mean'),
    signIns: sum(rs.map((r) => r.signIns)),
    wrong: sum(rs.map((r) => r.wrong)),
    errors: sum(rs.map((r) => r.errors)),
    flagged: rs.some((r) => r.flagged),
  };
}

export interface SignInSummary {
  signIn: SignInRun;
  underSignIns: {
    backgroundSignInLoops: number;
    alone: Row;
    during: Row;
    /** Per-round during/alone req/s, then the median. */
    ratio: number;
    /** The sign-ins that ran meanwhile (rate and latency while competing with the proxied load). */
    background: SignInRun;
    /** The local route while sign-ins arrive at a steady PACED_SIGNINS_PER_S, and its ratio to alone. */
    paced: Row;
    pacedRatio: number;
  };
  flagged: boolean;
}

export function summarize(rounds: SignInRound[]): SignInSummary {
  const alone = medianRow(
    'local alone',
    rounds.map((r) => r.alone),
  );
  const during = medianRow(
    'local during sign-ins',
    rounds.map((r) => r.during),
  );
  const signIn = medianSignIn(rounds.map((r) => r.signIn));
  const background = medianSignIn(rounds.map((r) => r.background));
  return {
    signIn,
    underSignIns: {
      backgroundSignInLoops: BACKGROUND_SIGNINS,
      alone,
      during,
      ratio: median(rounds.map((r) => r.during.rps / r.alone.rps)),
      background,
      paced: medianRow(
        'local during paced sign-ins',
        rounds.map((r) => r.paced),
      ),
      pacedRatio: median(rounds.map((r) => r.paced.rps / r.alone.rps)),
    },
    flagged: [signIn, background, alone, during, ...rounds.map((r) => r.paced)].some((r) => r.flagged),
  };
}

export function printSignIn(s: SummaryWithSettings): void {
  const { signIn: si, underSignIns: u } = s;
  const wrongs = (r: SignInRun) =>
    r.flagged ? `  FLAGGED: ${r.wrong} non-303, ${r.errors} errors/timeouts` : ', all 303';
  console.log(
    `\nsign-in: POST /auth/login with the right password, a new session each; ${si.connections} concurrent, ` +
      `${s.duration}s after ${s.warmup}s warm-up (medians of ${s.rounds} rounds)`,
  );
  console.log(
    `  ${fmt(si.rps, 1)} sign-ins/s   p50 ${fmt(si.p50)} ms   p99 ${fmt(si.p99)} ms   ` +
      `mean ${fmt(si.mean, 1)} ms   (${si.signIns} sign-ins${wrongs(si)})`,
  );
  console.log(
    `\nlocal route alone vs with ${u.backgroundSignInLoops} concurrent sign-in loops ` +
      `(${s.connections} connections, medians)`,
  );
  const cells = (label: string, r: Row) =>
    `  ${label.padEnd(22)}${fmt(r.rps).padStart(8)}${fmt(r.p50).padStart(8)}${fmt(r.p99).padStart(8)}` +
    (r.flagged ? '  FLAGGED' : '');
  console.log(`  ${''.padEnd(22)}${'req/s'.padStart(8)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}`);
  console.log(cells('alone', u.alone));
  console.log(cells('during sign-ins', u.during));
  console.log(`  ${'during / alone'.padEnd(22)}${fmt(u.ratio, 3).padStart(8)}`);
  console.log(cells(`at ${PACED_SIGNINS_PER_S} sign-ins/s`, u.paced));
  console.log(`  ${'paced / alone'.padEnd(22)}${fmt(u.pacedRatio, 3).padStart(8)}`);
  const b = u.background;
  console.log(
    `  sign-ins meanwhile: ${fmt(b.rps, 1)}/s, p50 ${fmt(b.p50)} ms, p99 ${fmt(b.p99)} ms ` +
      `(${b.signIns} sign-ins${wrongs(b)})`,
  );
  console.log(
    `  (argon2id runs on libuv's threadpool, off the event loop, but shares the ${s.cpus} cores\n` +
      '   with the proxy, the upstream and the load generators)',
  );
}

export type SummaryWithSettings = SignInSummary & {
  connections: number;
  duration: number;
  warmup: number;
  rounds: number;
  cpus: number;
};
