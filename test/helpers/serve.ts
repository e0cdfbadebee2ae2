// Running `hero-gateway serve` (or any command that announces where it listens) as a child process that binds
// port 0 itself: the real URLs are read from its own "listening on" line, so no port is probed free and handed
// over later — another process cannot take it in between.
import { type ChildProcess, spawn } from 'node:child_process';
import { BIN } from './cli.ts';

export interface Served {
  /** The main listener's URL, as the process printed it (e.g. http://127.0.0.1:40123). */
  url: string;
  /** The admin listener's URL, or null when there is none. */
  adminUrl: string | null;
  child: ChildProcess;
  /** Everything written so far: stdout and stderr interleaved, then each alone. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** SIGTERM (or `signal`) and wait for the exit; the exit code. Safe to call twice. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** The line `serve` writes to stderr once every listener is up. */
export const SERVE_LINE = /hero-gateway listening on (\S+)(?: \(admin (\S+)\))?\n/;
const WHOAMI_LINE = /whoami-upstream listening on (\S+)\n/;

/** `hero-gateway serve -c file`, resolved once it listens. Put "127.0.0.1:0" in the file's listen settings. */
export function startServe(file: string, opts: StartOptions = {}): Promise<Served> {
  return startListening([BIN, 'serve', '-c', file], SERVE_LINE, opts);
}

/** `hero-gateway whoami-upstream --listen 127.0.0.1:0`, resolved once it listens. */
export function startWhoamiUpstream(opts: StartOptions = {}): Promise<Served> {
  return startListening([BIN, 'whoami-upstream', '--listen', '127.0.0.1:0'], WHOAMI_LINE, opts);
}

/**
 * Spawns `node ...args` and resolves when `line` matches its stderr (group 1: the URL, group 2: an admin URL).
 * Rejects, with what the child wrote, if it exits first or does not get there within the timeout (the child is
 * killed then: a failed start never leaves a process behind).
 */
export function startListening(args: string[], line: RegExp, opts: StartOptions = {}): Promise<Served> {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let all = '';
  let out = '';
  let err = '';
  // 'close', not 'exit': by then everything the child wrote has been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (exitCode === undefined) child.kill(signal);
    return exited;
  };
  return new Promise<Served>((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`${args.slice(1).join(' ')}: ${why}; its stderr:\n${err}`));
    };
    const timer = setTimeout(() => {
      fail(`no listening line within ${timeoutMs} ms`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => fail(e.message));
    void exited.then((code) => fail(`exited (${code}) before it listened`));
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      all += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      all += c.toString();
      const m = line.exec(err);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1] as string,
        adminUrl: m[2] ?? null,
        child,
        output: () => all,
        stdout: () => out,
        stderr: () => err,
        stop,
      });
    });
  });
}
