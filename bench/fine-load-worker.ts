// The load generator of bench/fine-load.ts, on its own thread: keep-alive HTTP/1.1 connections, one request in
// flight on each, every latency kept at 10 µs resolution. It reads exactly what the proxies under test answer
// (a status line, headers with a Content-Length, a body); anything else counts as an error. With `cookies`, each
// request carries the next cookie, each is sent once, and the run ends when the last one is answered.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { FineLoadJob, FineLoadResult } from './fine-load.ts';

const job = workerData as FineLoadJob;
const BUCKET_MS = 0.01;
const MAX_MS = 5000;
const buckets = new Uint32Array(Math.ceil(MAX_MS / BUCKET_MS) + 1);
const HEAD_END = Buffer.from('\r\n\r\n');
const build = (headers: Record<string, string>) =>
  Buffer.from(
    `GET ${job.path} HTTP/1.1\r\nhost: ${job.host}\r\n` +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n',
    'latin1',
  );
const cookies = job.cookies?.map((cookie) => build({ ...job.headers, cookie })) ?? null;
const request = build(job.headers);
let sent = 0;
/** The request to send next; null once every cookie has been sent. */
const nextRequest = (): Buffer | null =>
  cookies === null ? request : sent < cookies.length ? (cookies[sent++] as Buffer) : null;

let requests = 0;
let non2xx = 0;
let errors = 0;
let stopped = false;
/** Connections with nothing left to send (cookies only). */
let drained = 0;
const sockets = new Set<Socket>();
const startedAt = performance.now();

function record(ms: number): void {
  const i = Math.min(buckets.length - 1, Math.round(ms / BUCKET_MS));
  buckets[i] = (buckets[i] as number) + 1;
}

function open(): void {
  if (stopped) return;
  const socket = connect({ host: job.hostname, port: job.port, noDelay: true });
  sockets.add(socket);
  let pending: Buffer | null = null;
  let sentAt = 0;
  let done = false;
  const send = () => {
    const next = nextRequest();
    if (next === null) {
      done = true;
      if (++drained === job.connections) finish();
      return;
    }
    sentAt = performance.now();
    socket.write(next);
  };
  socket.on('connect', send);
  socket.on('data', (chunk: Buffer) => {
    const buf: Buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
    const end = buf.indexOf(HEAD_END);
    if (end === -1) {
      pending = buf;
      return;
    }
    const head = buf.toString('latin1', 0, end).toLowerCase();
    const at = head.indexOf('\r\ncontent-length:');
    if (at === -1) {
      errors++;
      socket.destroy();
      return;
    }
    const length = Number.parseInt(head.slice(at + 17), 10);
    const total = end + 4 + length;
    if (buf.length < total) {
      pending = buf;
      return;
    }
    pending = null;
    if (buf.length > total) {
      // Nothing was asked for beyond this answer.
      errors++;
      socket.destroy();
      return;
    }
    record(performance.now() - sentAt);
    requests++;
    const status = Number(head.slice(9, 12));
    if (status < 200 || status > 299) non2xx++;
    if (!stopped) send();
  });
  socket.on('error', () => {
    if (!stopped) errors++;
  });
  socket.on('close', () => {
    sockets.delete(socket);
    // A closed connection is replaced, as a client with a pool would.
    if (!stopped && !done) setImmediate(open);
  });
}

function quantile(q: number): number {
  const target = Math.ceil(requests * q);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i] as number;
    if (seen >= target && seen > 0) return i * BUCKET_MS;
  }
  return Number.NaN;
}

function finish(): void {
  if (stopped) return;
  stopped = true;
  clearTimeout(cap);
  const seconds = (performance.now() - startedAt) / 1000;
  for (const s of sockets) s.destroy();
  const result: FineLoadResult = {
    requests,
    non2xx,
    errors,
    p50: quantile(0.5),
    p99: quantile(0.99),
    seconds,
  };
  parentPort?.postMessage(result);
}

const cap = setTimeout(finish, job.duration * 1000);
for (let i = 0; i < job.connections; i++) open();
