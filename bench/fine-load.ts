// A load run whose latencies keep 10 µs resolution, for the paired comparison (bench/paired.ts). autocannon keeps
// whole milliseconds, and a p99 around 8 ms then moves in steps of 12%: a "within 10%" target could not be
// read from it. Same shape of load as autocannon's: N keep-alive connections, one GET in flight on each, the
// generator on its own thread so it shares no event loop with anything it measures. With a list of cookies
// instead (bench/scale.ts), each request carries the next one and each is sent once: many distinct sessions.
import { Worker } from 'node:worker_threads';

export interface FineLoadJob {
  hostname: string;
  port: number;
  /** The Host header, as a client would send it for the URL. */
  host: string;
  path: string;
  headers: Record<string, string>;
  connections: number;
  /** Seconds; with `cookies`, only a cap (the run ends when every cookie has been sent and answered). */
  duration: number;
  /** Cookie header values, each sent once, in order, beside `headers`. */
  cookies?: string[] | undefined;
}

export interface FineLoadResult {
  requests: number;
  non2xx: number;
  errors: number;
  /** Milliseconds, 10 µs resolution. */
  p50: number;
  p99: number;
  /** From the first connection opened to the last answer (or to `duration`). */
  seconds: number;
}

const running = new Set<Worker>();
const ENTRY = new URL('./fine-load-worker.ts', import.meta.url).href;
// Node 20 refuses a .ts worker entry before any loader runs, so a one-line script loads it through tsx.
const BOOT = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(ENTRY)}, ${JSON.stringify(ENTRY)}))`;

export async function runFineLoad(opts: {
  url: string;
  headers: Record<string, string>;
  connections: number;
  duration: number;
  cookies?: string[];
}): Promise<FineLoadResult> {
  const u = new URL(opts.url);
  const job: FineLoadJob = {
    hostname: u.hostname,
    port: Number(u.port),
    host: u.host,
    path: u.pathname + u.search,
    headers: opts.headers,
    connections: opts.connections,
    duration: opts.duration,
    cookies: opts.cookies,
  };
  const worker = new Worker(BOOT, { eval: true, workerData: job });
  running.add(worker);
  try {
    return await new Promise<FineLoadResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`load worker exited ${code} before its result`)));
    });
  } finally {
    running.delete(worker);
    await worker.terminate();
  }
}

export function stopFineLoads(): void {
  for (const w of running) void w.terminate();
  running.clear();
}
