// The proxy hop under the conditions a buffered or careless proxy gets wrong: a client that reads slowly (the
// upstream must be slowed down, not buffered in the gateway's memory), a client that goes away (the upstream's
// work is cancelled), an upstream that dies mid-body (the client must not take a short body for a whole one),
// an upload sent with Expect: 100-continue, and an upstream that answers before it has read the upload.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { until } from '../helpers/until.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHUNK = Buffer.alloc(64 * 1024, 'x');
/** More than every socket buffer between upstream and client can hold. */
const FLOOD = 256 * 1024 * 1024;
/** Enough to fill the socket buffers on both hops, so the answer only completes if reading resumes it. */
const BIG = 32 * 1024 * 1024;

interface Probe {
  /** Bytes the upstream managed to write on the current /flood answer. */
  written: number;
  /** Whether the /flood answer was closed before it finished. */
  aborted: boolean;
  uploads: Array<{ bytes: number; digest: string }>;
}

/** An upstream with a few behaviours on purpose, each a path. */
function upstreamServer(probe: Probe): Server {
  return createServer((req, res) => {
    if (req.url === '/flood') {
      probe.written = 0;
      probe.aborted = false;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(FLOOD) });
      res.on('close', () => {
        if (!res.writableFinished) probe.aborted = true;
      });
      const pump = () => {
        while (probe.written < FLOOD && !res.destroyed) {
          probe.written += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
      return;
    }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BIG) });
      let sent = 0;
      const more = () => {
        while (sent < BIG) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
      return;
    }
    if (req.url === '/dies') {
      // Chunked, so only a broken connection tells the client the body is incomplete.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(Buffer.alloc(50_000, 'y'), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    if (req.url === '/repeat') {
      // A header repeated on two lines, and one whose name is an object's prototype slot in JavaScript.
      res.writeHead(
        200,
        [
          ['x-multi', 'one'],
          ['x-multi', 'two'],
          ['__proto__', 'polluted'],
          ['constructor', 'v'],
          ['content-type', 'text/plain'],
        ].flat(),
      );
      res.end('ok');
      return;
    }
    if (req.url === '/not-modified') {
      // RFC 9110 lets a 304 carry the Content-Length of the representation it stands for.
      res.writeHead(304, { 'content-length': '42', etag: '"v1"' });
      res.end();
      return;
    }
    if (req.url === '/early') {
      // Answers without reading the upload, as an app refusing it by its headers would.
      res.writeHead(413, { 'content-type': 'text/plain' });
      res.end('too large');
      return;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    req.on('end', () => {
      probe.uploads.push({ bytes, digest: hash.digest('hex') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
}

describe('proxy streaming', () => {
  const probe: Probe = { written: 0, aborted: false, uploads: [] };
  let upstream: Server;
  let gw: TestGateway;
  let port: number;
  before(async () => {
    upstream = upstreamServer(probe);
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const up = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startGateway(`[[route]]\nname = "app"\npath = "/"\nupstream = "${up}"\nauth = "none"\n`);
    port = gw.port;
  });
  after(async () => {
    await gw.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  /** A GET whose response is handed over unread, for a test to read (or not) at its own pace. */
  const get = (path: string) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent: false }, resolve);
      req.on('error', reject);
      req.end();
    });

  test('a client that stops reading slows the upstream down instead of filling the gateway', async () => {
    const res = await get('/flood');
    assert.equal(res.statusCode, 200);
    res.pause();
    // Everything in flight settles into the socket buffers along the way, then the upstream must wait.
    await sleep(1500);
    const stalled = probe.written;
    await sleep(500);
    assert.equal(probe.written, stalled, 'the upstream is held while the client does not read');
    assert.ok(stalled < 64 * 1024 * 1024, `the upstream wrote ${stalled} bytes to a client that read none`);
    res.destroy();
    // The client went away: the upstream's answer is cancelled rather than read to the end for nobody.
    await until(() => probe.aborted, { what: 'the upstream answer cancelled', timeoutMs: 5000 });
  });

  test('a client that pauses and then reads on receives the whole answer', async () => {
    const res = await get('/big');
    res.pause();
    await sleep(800);
    let bytes = 0;
    const read = (async () => {
      for await (const c of res) bytes += (c as Buffer).length;
    })();
    const stuck = sleep(20_000).then(() => 'stuck');
    assert.notEqual(await Promise.race([read, stuck]), 'stuck', `only ${bytes} bytes arrived`);
    assert.equal(bytes, BIG);
  });

  test('an upstream that dies mid-body gives the client a broken response, never a short whole one', async () => {
    const res = await get('/dies');
    assert.equal(res.statusCode, 200);
    const outcome = await new Promise<string>((resolve) => {
      let got = 0;
      res.on('data', (c: Buffer) => {
        got += c.length;
      });
      res.on('end', () => resolve(`ended after ${got} bytes`));
      res.on('error', () => resolve('error'));
      res.on('aborted', () => resolve('error'));
    });
    assert.equal(outcome, 'error');
  });

  test('a repeated response header arrives as sent; a __proto__ header is dropped, nothing polluted', async () => {
    const res = await get('/repeat');
    res.resume();
    const lines = res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    assert.deepEqual(
      res.rawHeaders.filter((_, i) => res.rawHeaders[i - 1]?.toLowerCase() === 'x-multi'),
      ['one', 'two'],
    );
    assert.ok(!lines.includes('__proto__'));
    assert.deepEqual(
      res.rawHeaders.filter((_, i) => res.rawHeaders[i - 1]?.toLowerCase() === 'constructor'),
      ['v'],
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('a 304 with a Content-Length arrives as a 304', async () => {
    const res = await get('/not-modified');
    assert.equal(res.statusCode, 304);
    assert.equal(res.headers.etag, '"v1"');
    res.resume();
  });

  test('bodies of every content type reach the upstream as sent (text/plain, JSON, none declared)', async () => {
    for (const type of ['text/plain; charset=utf-8', 'application/json', 'text/csv', undefined]) {
      const body = Buffer.from(`{"a":"payload for ${type}"}`);
      const headers: Record<string, string> = type ? { 'content-type': type } : {};
      const res = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'PUT', body, headers });
      await res.arrayBuffer();
      assert.equal(res.status, 200, String(type));
      const digest = createHash('sha256').update(body).digest('hex');
      assert.deepEqual(probe.uploads.at(-1), { bytes: body.length, digest }, String(type));
    }
  });

  test('an upload sent with Expect: 100-continue reaches the upstream whole', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024 + 3);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: '/upload',
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
          expect: '100-continue',
        },
      });
      req.on('continue', () => req.end(body));
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    assert.equal(status, 200);
    const last = probe.uploads.at(-1);
    assert.deepEqual(last, { bytes: body.length, digest: createHash('sha256').update(body).digest('hex') });
  });

  test('an upstream that answers before reading the upload: the answer arrives and the connection closes', async () => {
    // A keep-alive client: only the gateway's own decision can close this connection.
    const agent = new Agent({ keepAlive: true });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: '/early',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(8 * 1024 * 1024) },
      });
      req.on('response', resolve);
      req.on('error', reject);
      // Some of the body, then nothing: the upstream has answered by then.
      req.write(Buffer.alloc(16 * 1024));
    });
    assert.equal(res.statusCode, 413);
    assert.equal(res.headers.connection, 'close');
    res.resume();
    agent.destroy();
  });
});
