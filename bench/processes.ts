// Every proxy in the comparison runs as its own process, as it is deployed: the bare proxy, the gateway as
// `hero-gateway serve` (its access log going to a file through its stdout, as a service manager would take
// it), nginx and Apache. None shares an event loop or a heap with the bench or the load generator.
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/hero-gateway.js', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-proxy.ts', import.meta.url));

/** The upstream connection settings of the bare proxy; the gateway's proxy uses the same. */
export const UNDICI = { connections: 256, keepAliveTimeout: 30_000, connect: { timeout: 10_000 } };

export interface Running {
  url: string;
  /** The process to measure CPU time of (bench/cpu.ts). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Spawns `node ...args` (inside `wrap`, e.g. a valgrind command line, when given) and resolves with the URL
 * the child announces (`<name> listening on URL` on stdout or stderr). With `stdoutFile`, the child's stdout
 * goes straight to that file instead.
 */
function listening(args: string[], stdoutFile: string | null, wrap: string[] = []): Promise<Running> {
  const stdout = stdoutFile === null ? 'pipe' : openSync(stdoutFile, 'a');
  const [command, ...line] = [...wrap, process.execPath, ...args] as [string, ...string[]];
  const child: ChildProcess = spawn(command, line, { stdio: ['ignore', stdout, 'pipe'] });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let seen = '';
    const watch = (d: Buffer) => {
      seen = (seen + String(d)).slice(-4000);
      const m = / listening on (http\S+)/.exec(seen);
      if (m) {
        child.stdout?.off('data', watch);
        child.stderr?.off('data', watch);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ url: (m[1] as string).replace(/\/$/, ''), pid: child.pid, stop });
      }
    };
    child.stdout?.on('data', watch);
    child.stderr?.on('data', watch);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${seen.slice(-600)}`)));
  });
}

export const startBareProxy = (upstream: string, wrap: string[] = []) =>
  listening(['--import', 'tsx', BARE, upstream], null, wrap);

/** `hero-gateway serve -c file` (listen on port 0 in the file); its stdout, the access log, into `logFile`. */
export const startServe = (file: string, logFile: string, wrap: string[] = []) =>
  listening([BIN, 'serve', '-c', file], logFile, wrap);

/** The upstream every proxy forwards to: a plain node:http server with a small JSON answer, its own process. */
export async function startUpstream(): Promise<Running> {
  const source = `
const body = '{"ok":true}';
const s = require('node:http').createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('upstream listening on http://127.0.0.1:' + s.address().port));`;
  return listening(['-e', source], null);
}
