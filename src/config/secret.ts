// The server secret: from the config, else generated once into data_dir/secret (mode 0600) and reused.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomSecret } from '../crypto/tokens.ts';
import type { Config } from './load.ts';

export interface SecretResult {
  secret: string;
  generated: boolean;
  /** Set when the file is readable by others than its owner. */
  warning?: string;
}

export function ensureSecret(config: Config): SecretResult {
  if (config.server.secret) return { secret: config.server.secret, generated: false };
  const dir = config.server.data_dir;
  const file = join(dir, 'secret');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    // 'wx' creates atomically: two processes starting together cannot both write different secrets.
    writeFileSync(file, `${randomSecret(48)}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
    return { secret: readSecret(file), generated: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = statSync(file).mode & 0o777;
  const secret = readSecret(file);
  return mode & 0o077
    ? {
        secret,
        generated: false,
        warning: `${file} is readable by other users (mode ${mode.toString(8)}); run chmod 600`,
      }
    : { secret, generated: false };
}

function readSecret(file: string): string {
  const secret = readFileSync(file, 'utf8').trim();
  if (Buffer.byteLength(secret) < 32) throw new Error(`${file} holds a secret shorter than 32 bytes`);
  return secret;
}
