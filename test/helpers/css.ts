// Reads a stylesheet as the tests need it: rules (with @media one level deep) and, per colour scheme, the value
// of a property for one selector with its CSS variables resolved.
import assert from 'node:assert/strict';

export interface Rule {
  media: string | null;
  selectors: string[];
  decls: Map<string, string>;
}

/** Rules of a flat stylesheet with @media blocks one level deep (what stylesheet() writes). */
export function parseCss(css: string): Rule[] {
  const rules: Rule[] = [];
  let i = 0;
  const block = (media: string | null, end: number) => {
    while (i < end) {
      const open = css.indexOf('{', i);
      if (open === -1 || open >= end) break;
      const head = css.slice(i, open).trim();
      if (head.startsWith('@media')) {
        let depth = 1;
        let j = open + 1;
        for (; depth > 0; j++) depth += css[j] === '{' ? 1 : css[j] === '}' ? -1 : 0;
        i = open + 1;
        block(head, j - 1);
        i = j;
        continue;
      }
      const close = css.indexOf('}', open);
      const decls = new Map<string, string>();
      for (const d of css.slice(open + 1, close).split(';')) {
        const colon = d.indexOf(':');
        if (colon > 0) decls.set(d.slice(0, colon).trim(), d.slice(colon + 1).trim());
      }
      rules.push({ media, selectors: head.split(',').map((s) => s.trim()), decls });
      i = close + 1;
    }
  };
  block(null, css.length);
  return rules;
}

const DARK = /prefers-color-scheme:\s*dark/;

/** The value of `prop` for exactly `selector` in one scheme, variables resolved; the last rule wins. */
export function resolver(rules: Rule[], scheme: 'light' | 'dark') {
  const applies = (r: Rule) => r.media === null || !DARK.test(r.media) || scheme === 'dark';
  const vars = new Map<string, string>();
  for (const r of rules.filter(applies))
    if (r.selectors.includes(':root')) for (const [k, v] of r.decls) if (k.startsWith('--')) vars.set(k, v);
  const resolve = (value: string): string =>
    value.replace(/var\((--[a-z-]+)\)/g, (_, name: string) => {
      const v = vars.get(name);
      assert.ok(v, `${scheme}: ${name} is not defined`);
      return resolve(v);
    });
  return (selector: string, prop: string): string => {
    let found: string | undefined;
    for (const r of rules.filter(applies))
      if (r.selectors.includes(selector) && r.decls.has(prop)) found = r.decls.get(prop);
    assert.ok(found !== undefined, `${scheme}: no ${prop} for ${selector}`);
    return resolve(found);
  };
}

/** The first hex colour in a declaration's value ("3px solid #123456" → "#123456"). */
export const colourIn = (value: string): string => {
  const m = /#[0-9a-f]{6}\b|#[0-9a-f]{3}\b/i.exec(value);
  assert.ok(m, `no colour in "${value}"`);
  return m[0];
};
