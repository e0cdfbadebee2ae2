// Closing a listener's keep-alive connections at shutdown. Node's closeIdleConnections() skips a connection on
// which no request has arrived yet (a client's spare connection, one a browser opened ahead): it stays until
// the 60 s headers timeout, and so did the shutdown. Once no request is in flight on the listener, every
// connection left is one of those or idle, and all are closed.
import type { Server } from 'node:http';

export class ListenerConnections {
  readonly #server: Server;
  #active = 0;

  constructor(server: Server) {
    this.#server = server;
    server.on('request', (_req, res) => {
      this.#active++;
      res.once('close', () => this.#active--);
    });
  }

  /** Closes what is idle now; with no request in flight, every connection. */
  sweep(): void {
    if (this.#active === 0) this.#server.closeAllConnections();
    else this.#server.closeIdleConnections();
  }
}
