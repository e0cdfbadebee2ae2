// The assertion signing keys of installations from before the store held them: data_dir/signing-keys.json,
// `{"keys": [{kid, createdAt, jwk}]}` with the private JWK in clear and the first key signing. Read only to
// import them once, so apps that pinned those public keys keep verifying.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type KeyFileEntry, publicJwkOf } from '../crypto/signing-keys.ts';

export const LEGACY_KEY_FILE = 'signing-keys.json';

/** The keys in data_dir/signing-keys.json, in the file's order; null when there is no such file. */
export function readLegacySigningKeys(dataDir: string): KeyFileEntry[] | null {
  const file = join(dataDir, LEGACY_KEY_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const fail = (why: string): never => {
    throw new Error(`${file} is not a signing key file (${why}): fix or move it away, then start again`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    fail('not JSON');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return fail('no "keys" list');
  if (keys.length === 0) return null;
  return keys.map((k: { kid?: unknown; createdAt?: unknown; jwk?: unknown }, i) => {
    if (typeof k?.kid !== 'string' || k.kid === '') return fail(`key ${i + 1} has no kid`);
    const privateJwk = k.jwk as Record<string, string>;
    try {
      publicJwkOf(privateJwk);
    } catch {
      return fail(`key ${k.kid} is not an EC P-256 private key`);
    }
    return { kid: k.kid, createdAt: typeof k.createdAt === 'number' ? k.createdAt : 0, privateJwk };
  });
}
