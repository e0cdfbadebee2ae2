// The pages' colours per colour scheme, and the shades of the branding accent each scheme uses: whatever
// accent is configured, text and links reach 4.5:1 on the card and the page (WCAG 2.2 AA), and so does the
// text on an accent button.
import { contrast, nearestShade } from '../../core/colour.ts';

export interface Palette {
  fg: string;
  muted: string;
  bg: string;
  card: string;
  border: string;
  error: string;
  ok: string;
  /** The accent as text: links, and the focus ring. */
  accent: string;
  /** The accent as a surface: the primary buttons. */
  accentBg: string;
  /** Text on accentBg. */
  onAccent: string;
}

const TEXT = 4.5;
// A primary button must stand out from the card as a control (non-text contrast, WCAG 1.4.11).
const SURFACE = 3;
const WHITE = '#ffffff';

const BASE = {
  light: {
    fg: '#1f2328',
    muted: '#59636e',
    bg: '#f6f8fa',
    card: '#ffffff',
    border: '#d1d9e0',
    error: '#b42318',
    ok: '#067647',
  },
  dark: {
    fg: '#e6edf3',
    muted: '#9198a1',
    bg: '#0d1117',
    card: '#151b23',
    border: '#3d444d',
    error: '#ff8182',
    ok: '#56d364',
  },
} as const;

/** White when it reads on `surface`, else the darkest near-black of the pages. */
function textOn(surface: string): string {
  return contrast(WHITE, surface) >= TEXT ? WHITE : BASE.dark.bg;
}

export function palette(scheme: 'light' | 'dark', accent: string): Palette {
  const base = BASE[scheme];
  const onBoth = (c: string, min: number) => contrast(c, base.card) >= min && contrast(c, base.bg) >= min;
  // Lightness 0 or 1 passes both rules in either scheme, so a shade always exists; the fallbacks only
  // satisfy the type checker.
  const text = nearestShade(accent, (c) => onBoth(c, TEXT)) ?? base.fg;
  const surface = nearestShade(accent, (c) => onBoth(c, SURFACE) && contrast(textOn(c), c) >= TEXT) ?? text;
  return { ...base, accent: text, accentBg: surface, onAccent: textOn(surface) };
}
