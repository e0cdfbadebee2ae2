// The source tree's imports flow one way: no module may reach itself through its own imports (a cycle makes
// load order matter and hides which file owns what).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const IMPORT = /^(?:import|export)\s[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'/gm;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Runtime imports only: `import type` disappears when the code runs. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    if (/^(?:import|export)\s+type\s/.test(m[0])) continue;
    out.push(resolve(dirname(file), m[1] as string));
  }
  return out;
}

test('no import cycles in src', () => {
  const graph = new Map(sources(SRC).map((f) => [f, importsOf(f)]));
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push(
        path
          .slice(path.indexOf(f))
          .concat(f)
          .map((p) => p.slice(SRC.length))
          .join(' → '),
      );
      return;
    }
    state.set(f, 'open');
    path.push(f);
    for (const next of graph.get(f) ?? []) visit(next);
    path.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f);
  assert.deepEqual(cycles, []);
});
