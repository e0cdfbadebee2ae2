// Reading a config file: TOML → environment interpolation → strict schema → cross-field checks → frozen Config.
// Every problem is collected and reported with its path; loading has no side effects (no files are written).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { parseDuration } from './duration.ts';
import { type Env, interpolate } from './interpolate.ts';
import { COOKIE_DOMAIN, ConfigSchema, type RawConfig, type RouteConfig } from './schema.ts';
import { plainTomlMessage } from './toml-errors.ts';

export type Route = RouteConfig & {
  context: string;
  index: number;
  /** Providers whose sessions the `oauth` mode accepts here: `oidc`, else every provider; none without `oauth`. */
  providers: readonly string[];
};

export type Config = Readonly<
  Omit<RawConfig, 'route' | 'store' | 'server'> & {
    server: RawConfig['server'] & { audit_log: string };
    /** Directory of the config file: relative paths in the file are resolved against it. */
    baseDir: string;
    store: { url: string };
    route: readonly Route[];
  }
>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(
      `the config has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Where a TOML syntax error is, for showing the line with a caret under the column. */
export interface SyntaxProblem {
  line: number;
  column: number;
  /** What is wrong, in plain words. */
  message: string;
  /** The offending line as written. */
  lineText: string;
}

export type LoadResult =
  | { ok: true; config: Config }
  | {
      ok: false;
      problems: string[];
      /** The file is not there or cannot be read: problems[0] says so, and how to create one. */
      unreadable?: true;
      /** The file is not TOML: problems[0] is this, one line. */
      syntax?: SyntaxProblem;
    };

/** Which file `serve` and the other commands use: -c, then $HERO_GATEWAY_CONFIG, then ./hero-gateway.toml. */
export function configPath(flag: string | undefined, env: Env): string {
  return resolve(flag ?? env.HERO_GATEWAY_CONFIG ?? 'hero-gateway.toml');
}

const EXAMPLE = 'config.example.toml';

/** A path as a person would type it here: relative when under the current directory. */
function shown(path: string): string {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

/** `cp config.example.toml X`: the shipped example, from here when it is here, else from the package. */
function copyHint(file: string): string {
  const example = existsSync(EXAMPLE)
    ? resolve(EXAMPLE)
    : fileURLToPath(new URL(`../../${EXAMPLE}`, import.meta.url));
  return `cp ${shown(example)} ${shown(file)}`;
}

export function loadConfigFile(file: string, env: Env = process.env): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return {
        ok: false,
        unreadable: true,
        problems: [`no config file at ${file} — create one with: ${copyHint(file)} (or pass -c FILE)`],
      };
    const why = code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code;
    return {
      ok: false,
      unreadable: true,
      problems: [`cannot read the config file ${file} (${why ?? 'error'})`],
    };
  }
  return loadConfigText(text, { file, env });
}

export function loadConfigText(text: string, opts: { file?: string; env?: Env } = {}): LoadResult {
  const env = opts.env ?? process.env;
  const label = opts.file ?? 'config';
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const raw = err.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? '';
      const lineText = text.split(/\r?\n/)[err.line - 1] ?? '';
      const message = plainTomlMessage(raw, lineText, err.column);
      return {
        ok: false,
        problems: [`${label}:${err.line}:${err.column}: ${message}`],
        syntax: { line: err.line, column: err.column, message, lineText },
      };
    }
    throw err;
  }

  const problems: string[] = [];
  const data = interpolate(doc, env, '', problems);
  const parsed = ConfigSchema.safeParse(data);
  // A key whose ${VAR} is unset is reported once, for the variable, not again for the placeholder's value.
  const envPaths = problems.map((p) => p.slice(0, p.indexOf(': ') + 1));
  if (!parsed.success)
    problems.push(...formatIssues(parsed.error.issues).filter((p) => !envPaths.some((e) => p.startsWith(e))));
  problems.push(...crossCheck(data));
  if (problems.length > 0 || !parsed.success) return { ok: false, problems: [...new Set(problems)] };

  const baseDir = opts.file ? dirname(resolve(opts.file)) : process.cwd();
  return { ok: true, config: finish(parsed.data, baseDir) };
}

function finish(raw: RawConfig, baseDir: string): Config {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const dataDir = at(raw.server.data_dir);
  const url = raw.store.url ?? `sqlite:${resolve(dataDir, 'gateway.db')}`;
  const storeUrl =
    url.startsWith('sqlite:') && url !== 'sqlite::memory:' ? `sqlite:${at(url.slice(7))}` : url;
  return deepFreeze({
    ...raw,
    baseDir,
    server: {
      ...raw.server,
      data_dir: dataDir,
      audit_log:
        raw.server.audit_log === undefined
          ? resolve(dataDir, 'audit.log')
          : raw.server.audit_log && at(raw.server.audit_log),
      ...(raw.server.tls_cert !== undefined ? { tls_cert: at(raw.server.tls_cert) } : {}),
      ...(raw.server.tls_key !== undefined ? { tls_key: at(raw.server.tls_key) } : {}),
    },
    store: { url: storeUrl },
    route: raw.route.map((r, index) => ({
      ...r,
      context: r.context ?? r.name,
      index,
      providers: r.auth.includes('oauth') ? (r.oidc ?? raw.oidc.map((p) => p.id)) : [],
    })),
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top)';
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const path = formatPath(issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push(`${formatPath([...issue.path, key])}: unknown key`);
        break;
      case 'invalid_type': {
        const got =
          issue.input === undefined ? 'nothing' : Array.isArray(issue.input) ? 'array' : typeof issue.input;
        out.push(
          issue.input === undefined
            ? `${path}: is required`
            : `${path}: must be ${issue.expected} but is ${got}`,
        );
        break;
      }
      case 'invalid_value':
        out.push(
          `${path}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} but is ${JSON.stringify(issue.input)}`,
        );
        break;
      default:
        out.push(`${path}: ${issue.message}`);
    }
  }
  return out;
}

type Loose = Record<string, unknown>;
const isObj = (v: unknown): v is Loose => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Why a PostgreSQL store without server.secret is refused (the ${…} in it is the config file's interpolation). */
export const SHARED_SECRET_NEEDED = `server.secret: required with a PostgreSQL store (every instance must use the same one): set secret = "\${HERO_GATEWAY_SECRET}" and give each instance that variable`;

/** Rules across entries, run on the raw data so they are reported even when other fields are wrong. */
function crossCheck(data: unknown): string[] {
  if (!isObj(data)) return [];
  const problems: string[] = [];
  const oidc = Array.isArray(data.oidc) ? data.oidc.filter(isObj) : [];
  const providerIds = new Map<string, number>();
  oidc.forEach((p, i) => {
    if (typeof p.id !== 'string') return;
    const first = providerIds.get(p.id);
    if (first !== undefined) problems.push(`oidc[${i}].id: "${p.id}" is already used by oidc[${first}]`);
    else providerIds.set(p.id, i);
  });

  const routes = Array.isArray(data.route) ? data.route : [];
  const names = new Map<string, number>();
  const places = new Map<string, number>();
  routes.forEach((r, i) => {
    if (!isObj(r)) return;
    if (typeof r.name === 'string') {
      const first = names.get(r.name);
      if (first !== undefined)
        problems.push(`route[${i}].name: "${r.name}" is already used by route[${first}]`);
      else names.set(r.name, i);
    }
    const host = typeof r.host === 'string' ? r.host.toLowerCase() : r.host === undefined ? '*' : null;
    const rawPath = typeof r.path === 'string' ? r.path : r.path === undefined ? '/' : null;
    if (host !== null && rawPath !== null) {
      const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
      // Paths match in every case, so "/Admin" and "/admin" are the same place.
      const key = `${host} ${path.toLowerCase()}`;
      const first = places.get(key);
      if (first !== undefined)
        problems.push(`route[${i}]: host "${host}" and path "${path}" are already used by route[${first}]`);
      else places.set(key, i);
    }
    const auth = typeof r.auth === 'string' ? [r.auth] : Array.isArray(r.auth) ? r.auth : [];
    if (auth.includes('oauth') && providerIds.size === 0)
      problems.push(`route[${i}].auth: "oauth" needs at least one [[oidc]] provider`);
    if (Array.isArray(r.oidc)) {
      // A list that would be ignored, or that admits nobody, is a mistake worth stopping for.
      if (!auth.includes('oauth')) problems.push(`route[${i}].oidc: applies only when auth includes "oauth"`);
      else if (r.oidc.length === 0) problems.push(`route[${i}].oidc: must name at least one provider`);
      r.oidc.forEach((id, j) => {
        if (typeof id === 'string' && !providerIds.has(id))
          problems.push(`route[${i}].oidc[${j}]: no [[oidc]] provider has id "${id}"`);
      });
    }
  });

  const session = isObj(data.session) ? data.session : {};
  const idle = typeof session.idle_timeout === 'string' ? session.idle_timeout : undefined;
  const abs = typeof session.absolute_timeout === 'string' ? session.absolute_timeout : undefined;
  if (idle && abs && durationOrZero(idle) > durationOrZero(abs) && durationOrZero(abs) > 0)
    problems.push('session.idle_timeout: must not be longer than session.absolute_timeout');
  // Browsers drop a cookie whose Domain does not cover the host that set it: sign-in would silently fail.
  const server = isObj(data.server) ? data.server : {};
  const domain =
    typeof session.cookie_domain === 'string' && COOKIE_DOMAIN.test(session.cookie_domain)
      ? session.cookie_domain.replace(/^\./, '')
      : null;
  const publicUrl = typeof server.public_url === 'string' ? server.public_url : 'http://localhost:8080';
  if (domain !== null) {
    let host = '';
    try {
      host = new URL(publicUrl).hostname;
    } catch {
      /* reported by the schema */
    }
    if (host && host !== domain && !host.endsWith(`.${domain}`))
      problems.push(
        `session.cookie_domain: "${domain}" must be public_url's host "${host}" or a parent domain of it`,
      );
  }
  // Instances sharing a database must share the secret that seals what they store (mail, provider tokens) and
  // signs their cookies' companions: a secret generated into one machine's data_dir would be that one's alone.
  const store = isObj(data.store) ? data.store : {};
  if (typeof store.url === 'string' && /^postgres(ql)?:\/\//.test(store.url) && server.secret === undefined)
    problems.push(SHARED_SECRET_NEEDED);
  return problems;
}

function durationOrZero(v: string): number {
  return parseDuration(v) ?? 0;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
