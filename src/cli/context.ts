// What most commands need: the config named by -c and the store it points at (migrated on open).

import { openStore } from '../adapters/open-store.ts';
import { type Config, ConfigError, configPath, loadConfigFile } from '../config/load.ts';
import { systemClock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { CliError } from './io.ts';

export function loadConfigOrFail(flag: string | undefined): Config {
  const file = configPath(flag, process.env);
  const loaded = loadConfigFile(file);
  if (!loaded.ok) throw new ConfigError(loaded.problems);
  return loaded.config;
}

export async function withStore<T>(
  flag: string | undefined,
  fn: (store: Store, config: Config) => Promise<T>,
  opts: { migrate?: boolean } = {},
): Promise<T> {
  const config = loadConfigOrFail(flag);
  let store: Store;
  try {
    store = openStore(config.store.url, systemClock, opts);
  } catch (err) {
    throw new CliError(`cannot open the store ${config.store.url}: ${(err as Error).message}`, 2);
  }
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}
