// A real WebSocket app on port 0 (the `ws` package): echoes messages, records each handshake, adds chosen lines
// to its 101 answers, and answers plain GETs with a page of its own or with the identity it was sent.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface WsUpstream {
  url: string;
  port: number;
  /** Request headers of every upgrade that reached the app. */
  seen: IncomingHttpHeaders[];
  /** Raw header lines added to every 101 answer (e.g. `Set-Cookie: …`). */
  handshake: string[];
  /** HTML pages by path; any other GET answers `{"url", "user"}` with the X-Hero-User it received. */
  pages: Map<string, string>;
  /** The app's side of every tunnel still open. */
  sockets: Set<WebSocket>;
  close(): Promise<void>;
}

export async function startWsUpstream(): Promise<WsUpstream> {
  const seen: IncomingHttpHeaders[] = [];
  const handshake: string[] = [];
  const pages = new Map<string, string>();
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true });
  wss.on('headers', (lines) => lines.push(...handshake));
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('message', (m) => socket.send(`echo ${m}`));
  });
  const server = createServer((req, res) => {
    const page = pages.get(req.url ?? '');
    if (page !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ url: req.url, user: req.headers['x-hero-user'] ?? null }));
  });
  server.on('upgrade', (req, socket, head) => {
    seen.push(req.headers);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    handshake,
    pages,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
