// Sends a request byte for byte over TCP: fetch and other clients normalize paths and headers, which would
// hide exactly the hostile inputs these tests need to send.
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

export function rawRequest(port: number, request: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), raw });
    });
    socket.write(request);
  });
}

/** A GET with `Connection: close` and the given extra header lines. */
export function rawGet(
  port: number,
  target: string,
  headerLines: string[] = [],
  host = 'localhost',
): Promise<RawResponse> {
  const lines = [`GET ${target} HTTP/1.1`, `Host: ${host}`, ...headerLines, 'Connection: close', '', ''];
  return rawRequest(port, lines.join('\r\n'));
}
