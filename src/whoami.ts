// A tiny echo app for demos and debugging: answers every request with what it received, headers included.
import { createServer, type IncomingMessage, type Server } from 'node:http';

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function page(seen: { method: string; url: string; headers: Record<string, unknown> }): string {
  const rows = Object.entries(seen.headers)
    .map(([k, v]) => {
      const hero = k.startsWith('x-hero-') ? ' class="hero"' : '';
      return `<tr${hero}><th scope="row">${esc(k)}</th><td>${esc(String(v))}</td></tr>`;
    })
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>whoami</title><style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:56rem;padding:0 1rem;color:#1f2937}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e5e7eb;vertical-align:top;word-break:break-all}
th{width:14rem;font-weight:600}tr.hero{background:#eef2ff}code{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px}</style></head>
<body><h1>whoami</h1><p>This app received <code>${esc(seen.method)} ${esc(seen.url)}</code> with these headers.
Rows in blue are the identity headers the gateway set.</p><table>${rows}</table></body></html>`;
}

export function createWhoami(): Server {
  return createServer((req: IncomingMessage, res) => {
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
    });
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body_bytes: size };
      if ((req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page(seen));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify(seen, null, 2)}\n`);
      }
    });
  });
}
