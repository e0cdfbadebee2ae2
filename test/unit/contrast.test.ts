// WCAG 2.2 AA contrast of the pages' stylesheet, read from the CSS itself: for any branding accent, in the
// light and the dark scheme, every text colour the pages use against the background it sits on (4.5:1), and
// the focus ring against the card and the page (3:1).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contrast, luminance, nearestShade } from '../../src/core/colour.ts';
import { stylesheet } from '../../src/http/views/style.ts';
import { colourIn, parseCss, resolver } from '../helpers/css.ts';

// Every selector that sets a text colour, and what it sits on. A new `color:` in the stylesheet must be added
// here (the coverage test below fails otherwise), so no colour escapes the check.
const TEXT_PAIRS: { fg: string; on: 'page' | 'card' | { selector: string; prop: string } }[] = [
  { fg: 'html', on: 'page' },
  { fg: 'html', on: 'card' },
  { fg: '.brand', on: 'card' },
  { fg: '.hint', on: 'card' },
  { fg: 'p.meta', on: 'card' },
  { fg: 'a', on: 'card' },
  { fg: 'button', on: { selector: 'button', prop: 'background' } },
  { fg: '.button', on: { selector: '.button', prop: 'background' } },
  { fg: 'button.secondary', on: 'card' },
  { fg: '.button.secondary', on: 'card' },
  { fg: '.button[aria-disabled=true]', on: 'card' },
  { fg: '.alert.error', on: 'card' },
  { fg: '.alert.ok', on: 'card' },
  { fg: 'input[type=text]', on: { selector: 'input[type=text]', prop: 'background' } },
  { fg: 'select', on: { selector: 'select', prop: 'background' } },
  { fg: 'td[data-label]::before', on: 'card' },
];

function check(accent: string): string[] {
  const rules = parseCss(stylesheet(accent).css);
  const failures: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    const get = resolver(rules, scheme);
    const page = colourIn(get('html', 'background'));
    const card = colourIn(get('main', 'background'));
    for (const pair of TEXT_PAIRS) {
      const fg = colourIn(get(pair.fg, 'color'));
      const bg =
        pair.on === 'page' ? page : pair.on === 'card' ? card : colourIn(get(pair.on.selector, pair.on.prop));
      const ratio = contrast(fg, bg);
      if (ratio < 4.5) failures.push(`${scheme} ${pair.fg} ${fg} on ${bg}: ${ratio.toFixed(2)}`);
    }
    const ring = colourIn(get('a:focus-visible', 'outline'));
    for (const [name, bg] of [
      ['card', card],
      ['page', page],
    ] as const) {
      const ratio = contrast(ring, bg);
      if (ratio < 3) failures.push(`${scheme} focus ring ${ring} on ${name} ${bg}: ${ratio.toFixed(2)}`);
    }
  }
  return failures;
}

/** A fixed-seed generator, so a failing accent is the same on every run. */
function* seededColours(seed: number, n: number) {
  let x = seed;
  for (let k = 0; k < n; k++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    yield `#${(x >>> 8).toString(16).padStart(6, '0')}`;
  }
}

const ACCENTS = [
  '#000000',
  '#ffffff',
  '#ffff00',
  '#0000ff',
  '#777777',
  '#1f6feb',
  '#4f46e5',
  ...seededColours(20260115, 40),
];

describe('contrast of the pages (WCAG 2.2 AA)', () => {
  test('contrast and luminance match the WCAG reference values', () => {
    assert.equal(contrast('#000000', '#ffffff'), 21);
    assert.equal(contrast('#777777', '#777777'), 1);
    assert.equal(contrast('#777777', '#ffffff').toFixed(2), '4.48');
    assert.equal(luminance('#ffffff'), 1);
  });

  test('a shade keeps the colour when it already passes, and keeps the hue when it does not', () => {
    assert.equal(
      nearestShade('#4f46e5', (c) => contrast(c, '#ffffff') >= 4.5),
      '#4f46e5',
    );
    const yellow = nearestShade('#ffff00', (c) => contrast(c, '#ffffff') >= 4.5) as string;
    assert.ok(contrast(yellow, '#ffffff') >= 4.5);
    const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(yellow.slice(i, i + 2), 16));
    assert.ok(Math.abs((r as number) - (g as number)) <= 2 && (b as number) < 10, `still yellow: ${yellow}`);
  });

  for (const accent of ACCENTS)
    test(`accent ${accent}: every text ≥ 4.5:1 and the focus ring ≥ 3:1, light and dark`, () => {
      assert.deepEqual(check(accent), []);
    });

  test('every rule that sets a text colour is among the checked pairs', () => {
    const checked = new Set(TEXT_PAIRS.map((p) => p.fg));
    const unchecked = parseCss(stylesheet('#4f46e5').css)
      .filter((r) => r.decls.has('color') && !r.selectors.includes(':root'))
      .flatMap((r) => r.selectors)
      .filter(
        (s) =>
          !checked.has(s) && !['input[type=email]', 'input[type=password]', 'input[readonly]'].includes(s),
      );
    assert.deepEqual(unchecked, []);
  });

  test('the dark scheme has its own colours', () => {
    const css = stylesheet('#4f46e5').css;
    assert.match(css, /@media \(prefers-color-scheme:dark\)\{:root\{[^}]*--bg:#0d1117/);
  });
});
