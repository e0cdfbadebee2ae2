// One word per action on every page the gateway shows and in the demo app: "Sign in"/"Sign out" (never
// "Log in", "Logout"), "Revoke" a token, "End" a session, "Mail me" a link. Read from the sources of the pages.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../../src/', import.meta.url);
const files = [
  ...['http/views', 'http/pages'].flatMap((dir) => readdirSync(new URL(dir, ROOT)).map((f) => join(dir, f))),
  'whoami.ts',
];

// A capitalised word not glued to an identifier (renderLogin, OidcLogin and /login paths are code, not text).
const AVOID: [RegExp, string][] = [
  [/(?<![\w/.-])(Log ?in|Log ?out|Logout|Sign ?off|Sign-out)\b/g, 'Sign in / Sign out'],
  [/(?<![\w/.-])(Email me|E-mail me)\b/g, 'Mail me'],
  [/\b(Delete|Remove) (the |this )?token\b/gi, 'Revoke'],
  [/\b(Revoke|Terminate|Kill|Close) (the |this |all )?(other )?sessions?\b/gi, 'End'],
];

test('the pages use one word per action', () => {
  const found: string[] = [];
  for (const file of files) {
    const text = readFileSync(new URL(file, ROOT), 'utf8')
      .split('\n')
      .filter((line) => !/^\s*(\/\/|\*|\/\*\*)/.test(line))
      .join('\n');
    for (const [pattern, use] of AVOID)
      for (const m of text.matchAll(pattern)) found.push(`${file}: "${m[0]}" (use ${use})`);
  }
  assert.deepEqual(found, []);
});
