// The QR code of an authenticator-app enrolment as inline SVG: one path of dark modules on a white square.
import { encode } from 'uqr';
import { html, type SafeHtml } from '../../core/html.ts';

/** White modules around the code: the QR standard asks for 4, and scanners miss codes that sit on a dark card. */
const QUIET_ZONE = 4;

/**
 * `text` as a QR code that scales with CSS (viewBox; the `qr` class sets the width). Black on white in either
 * colour scheme, as scanners need, and only presentation attributes: the pages' CSP refuses style attributes
 * and elements, which uqr's own renderSVG does not emit today but nothing promises that.
 */
export function qrSvg(text: string, label: string): SafeHtml {
  // Level M survives a smudged or glossy screen; an otpauth URI still fits in a small version.
  const { data, size } = encode(text, { ecc: 'M', border: 0 });
  const side = size + 2 * QUIET_ZONE;
  // One rectangle per horizontal run of dark modules keeps the path a few KB.
  let d = '';
  data.forEach((row, y) => {
    for (let x = 0; x < size; ) {
      if (!row[x]) {
        x++;
        continue;
      }
      let end = x;
      while (end < size && row[end]) end++;
      d += `M${x + QUIET_ZONE} ${y + QUIET_ZONE}h${end - x}v1h-${end - x}z`;
      x = end;
    }
  });
  return html`<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" role="img" aria-label="${label}" shape-rendering="crispEdges"><rect width="${side}" height="${side}" fill="#ffffff"/><path fill="#000000" d="${d}"/></svg>`;
}
