// A tiny echo app for demos and debugging: answers every request with what it received, headers included.
// Behind the gateway it also links to the gateway's account page and sign-out, as a real app would.
import { createServer, type IncomingMessage, type Server } from 'node:http';

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

// Light and dark, each pair at least 4.5:1 (WCAG 2.2 AA): text and links on the page, on the highlighted
// rows and on code; the focus ring at least 3:1.
export const WHOAMI_CSS = `:root{--fg:#1f2328;--muted:#59636e;--bg:#ffffff;--line:#d1d9e0;--hero:#eef2ff;--code:#f3f4f6;--link:#3730a3;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--line:#3d444d;--hero:#1b2240;--code:#1f2630;--link:#a5b4fc}}
html{background:var(--bg);color:var(--fg)}
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:56rem;padding:0 1rem}
header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1.5rem}
h1{margin:.5rem 0}
.bar{display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem 1.25rem}
.who{margin:0}
nav{display:flex;gap:1rem}
a{color:var(--link)}
a:focus-visible{outline:3px solid var(--link);outline-offset:2px}
.who{color:var(--muted)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
th{width:14rem;font-weight:600;overflow-wrap:break-word}
tr.hero{background:var(--hero)}
code{background:var(--code);padding:.1rem .3rem;border-radius:4px}
@media (max-width:40rem){th,td{display:block;width:auto;border:0;padding:.1rem .4rem}tr{display:block;border-bottom:1px solid var(--line);padding:.3rem 0}}`;

const header = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) ? String(v[0] ?? '') : '');

/**
 * Links to the gateway's own pages. The gateway serves them under its auth prefix on every host it proxies,
 * so a path on this page's own origin reaches them. Signing out is a POST with a CSRF token: the link opens
 * the gateway's page that asks, never a request that signs out by itself. On a public route the gateway sends
 * no identity even to a signed-in browser, so both links are always there, and "Sign in" too when no one is named.
 */
function nav(user: string, authPrefix: string): string {
  const p = esc(authPrefix);
  const who =
    user === ''
      ? '<p class="who">No identity headers: this route is public, or no one is signed in.</p>'
      : `<p class="who">Signed in as <strong>${esc(user)}</strong></p>`;
  const signIn = user === '' ? `<a href="${p}/login">Sign in</a>` : '';
  return `<div class="bar">${who}<nav>${signIn}<a href="${p}/account">Your account</a><a href="${p}/logout">Sign out</a></nav></div>`;
}

function page(
  seen: { method: string; url: string; headers: Record<string, unknown> },
  authPrefix: string,
): string {
  const rows = Object.entries(seen.headers)
    .map(([k, v]) => {
      const hero = k.startsWith('x-hero-') ? ' class="hero"' : '';
      return `<tr${hero}><th scope="row">${esc(k)}</th><td>${esc(String(v))}</td></tr>`;
    })
    .join('');
  const user = header(seen.headers['x-hero-user']);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>whoami</title><style>${WHOAMI_CSS}</style></head>
<body><header><h1>whoami</h1>${nav(user, authPrefix)}</header>
<p>This app received <code>${esc(seen.method)} ${esc(seen.url)}</code> with these headers.
Highlighted rows are the identity headers the gateway set.</p><table>${rows}</table></body></html>`;
}

export function createWhoami(opts: { authPrefix?: string } = {}): Server {
  const authPrefix = opts.authPrefix ?? '/auth';
  return createServer((req: IncomingMessage, res) => {
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
    });
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body_bytes: size };
      if ((req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page(seen, authPrefix));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify(seen, null, 2)}\n`);
      }
    });
  });
}
