// The demo's processes. Each one's output is held back until it prints the line saying it listens, so a failed
// start can be told in one line instead of a page of logs; once the demo is up, output passes straight through.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface DemoChild {
  readonly name: string;
  /** Resolves with the readiness line's first group; rejects with the child's own last error line. */
  readonly ready: Promise<string>;
  /** Resolves once the process has exited: its exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** From now on, held and future output goes to the demo's own stdout and stderr. */
  release(): void;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** The line to show for a process that ended: its last `error:` line, else its last line, else the exit code. */
function lastWords(lines: string[], code: number | null, signal: string | null): string {
  const said = lines.findLast((l) => l.startsWith('error:')) ?? lines.findLast((l) => l.trim() !== '');
  if (said) return said.replace(/^error:\s*/, '');
  return signal ? `stopped by ${signal}` : `exited with code ${code}`;
}

export function startChild(
  name: string,
  args: string[],
  readyLine: RegExp,
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): DemoChild {
  const proc: ChildProcess = spawn(process.execPath, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const held: { to: Writable; line: string }[] = [];
  const seen: string[] = [];
  let released = false;
  let onReady: (value: string) => void = () => {};
  let onFail: (err: Error) => void = () => {};
  const ready = new Promise<string>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  ready.catch(() => {}); // a failure is read by whoever awaits `ready`; never an unhandled rejection

  const follow = (from: Readable | null, to: Writable) => {
    let partial = '';
    from?.setEncoding('utf8');
    from?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (released) to.write(`${line}\n`);
        else {
          held.push({ to, line });
          seen.push(line);
          const m = readyLine.exec(line);
          if (m) onReady(m[1] ?? line);
        }
      }
    });
  };
  follow(proc.stdout, process.stdout);
  follow(proc.stderr, process.stderr);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('error', (err) => {
      onFail(err);
      resolve({ code: null, signal: null });
    });
    // 'close', not 'exit': by then the child's last lines have been read.
    proc.once('close', (code, signal) => {
      onFail(new Error(lastWords(seen, code, signal)));
      resolve({ code, signal });
    });
  });

  return {
    name,
    ready,
    exited,
    release() {
      released = true;
      for (const { to, line } of held.splice(0)) to.write(`${line}\n`);
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
