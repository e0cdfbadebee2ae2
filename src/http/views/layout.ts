// The page shell shared by every auth page: branding, one heading, an optional alert, the page's content.
import { html, type SafeHtml } from '../../core/html.ts';

export interface Branding {
  title: string;
  logoUrl?: string | undefined;
  stylesheet: string;
  icon: string;
  /** The passkey script's URL, loaded only by pages that offer passkeys. */
  script: string;
}

export interface Alert {
  kind: 'error' | 'ok';
  text: string;
}

export function page(
  b: Branding,
  opts: { heading: string; alert?: Alert | null | undefined; wide?: boolean; passkeys?: boolean },
  content: SafeHtml,
): string {
  const alert = opts.alert
    ? html`<p class="alert ${opts.alert.kind}" role="${opts.alert.kind === 'error' ? 'alert' : 'status'}" id="page-alert">${opts.alert.text}</p>`
    : '';
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${opts.heading} · ${b.title}</title>
<link rel="stylesheet" href="${b.stylesheet}">
<link rel="icon" href="${b.icon}" type="image/svg+xml">
${
  opts.passkeys
    ? html`<script src="${b.script}" defer></script>
`
    : ''
}</head>
<body>
<main${opts.wide ? html` class="wide"` : ''} aria-labelledby="page-title">
<div class="brand">${b.logoUrl ? html`<img src="${b.logoUrl}" alt="">` : ''}<span>${b.title}</span></div>
<h1 id="page-title">${opts.heading}</h1>
${alert}${content}
</main>
</body>
</html>
`}`;
}
