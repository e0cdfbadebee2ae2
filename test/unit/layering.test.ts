// The entry points (src/http: pages and admin API; src/cli: commands) change accounts only through the use
// cases in src/services: none of their files may import the store port, even for a type. A new handler that
// reaches for the store fails the build here instead of growing a second copy of a business rule.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const STORE_PORT = join(SRC, 'ports', 'store.ts');
// Static imports and re-exports (type-only too) and dynamic import() calls.
const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)(['"`])([^'"`]+)\1/gm;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Whether `text` (the source of `file`) imports the store port. */
export function importsStorePort(file: string, text: string): boolean {
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[2] as string;
    if (spec.startsWith('.') && resolve(dirname(file), spec) === STORE_PORT) return true;
  }
  return false;
}

test('the check sees every way of importing the port', () => {
  const file = join(SRC, 'http', 'pages', 'x.ts');
  for (const line of [
    "import type { Store } from '../../ports/store.ts';",
    "import { StoreConflictError } from '../../ports/store.ts';",
    "export type { User } from '../../ports/store.ts';",
    "const m = await import('../../ports/store.ts');",
    "import {\n  type Store,\n} from '../../ports/store.ts';",
    'import type { Store } from "../../ports/store.ts";',
  ])
    assert.ok(importsStorePort(file, line), line);
  assert.ok(!importsStorePort(file, "import type { User } from '../../core/records.ts';"));
});

test('src/http and src/cli never import the store port', () => {
  const offenders = ['http', 'cli']
    .flatMap((dir) => sources(join(SRC, dir)))
    .filter((f) => importsStorePort(f, readFileSync(f, 'utf8')))
    .map((f) => f.slice(SRC.length));
  assert.deepEqual(offenders, [], 'use a service in src/services instead of the store');
});
