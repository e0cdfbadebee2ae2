// Content negotiation for "sign in first": browsers get a redirect, every other client a problem document.

function qualityOf(accept: string, type: string): number {
  let q = -1;
  for (const part of accept.split(',')) {
    const [media, ...params] = part.split(';');
    if (media?.trim().toLowerCase() !== type) continue;
    let value = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q') value = Number(v);
    }
    q = Number.isFinite(value) ? Math.max(q, value) : q;
  }
  return q;
}

/** True when the client asks for HTML explicitly and likes it at least as much as JSON. `*\/*` is not enough. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept?.includes('text/html')) return false;
  const html = qualityOf(accept, 'text/html');
  return html > 0 && html >= qualityOf(accept, 'application/json');
}
