// Watching files (the config, the TLS certificate and key) for changes. Directories are watched, not files:
// editors save by writing a new file and renaming it over the old one, renewal tools swap symlinks, and
// Kubernetes swaps a `..data` symlink, and all of these leave a watch on the old inode deaf. Only events that
// name a watched file (or `..data`, or no name at all) count, so a busy neighbour (a log file, an editor's swap
// file) can neither trigger nor postpone a reload. Events are debounced with a ceiling, and only a change of
// content calls back.
import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface WatchTiming {
  /** Quiet time after the last relevant event before the files are read. */
  debounceMs: number;
  /** Longest wait after the first relevant event, however many follow. */
  maxWaitMs: number;
}

const DEFAULT_TIMING: WatchTiming = { debounceMs: 250, maxWaitMs: 1000 };

// Kubernetes ConfigMap and Secret mounts: the visible files are symlinks through `..data`, which is swapped.
const K8S_SWAP = '..data';

function contentHash(file: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null; // mid-swap: the next event brings the new file
  }
}

/** Calls `onChange` once any of `files` has changed content and settled. Returns a function that stops watching. */
export function watchFiles(
  files: readonly string[],
  onChange: () => void,
  timing: WatchTiming = DEFAULT_TIMING,
): () => void {
  const paths = [...new Set(files.map((f) => resolve(f)))];
  const last = new Map(paths.map((f) => [f, contentHash(f)]));
  let debounce: NodeJS.Timeout | null = null;
  let deadline: NodeJS.Timeout | null = null;
  const check = () => {
    if (debounce) clearTimeout(debounce);
    if (deadline) clearTimeout(deadline);
    debounce = deadline = null;
    let changed = false;
    for (const f of paths) {
      const now = contentHash(f);
      if (now === null || now === last.get(f)) continue;
      last.set(f, now);
      changed = true;
    }
    if (changed) onChange();
  };
  const poke = () => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(check, timing.debounceMs);
    deadline ??= setTimeout(check, timing.maxWaitMs);
  };

  const byDir = new Map<string, Set<string>>();
  for (const f of paths) {
    const names = byDir.get(dirname(f)) ?? new Set([K8S_SWAP]);
    names.add(basename(f));
    byDir.set(dirname(f), names);
  }
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        // Some platforms give no name: then any event may be ours.
        if (name === null || names.has(name)) poke();
      });
      w.on('error', () => {});
      watchers.push(w);
    } catch {
      // No watch support (some network filesystems): SIGHUP still reloads.
    }
  }
  return () => {
    if (debounce) clearTimeout(debounce);
    if (deadline) clearTimeout(deadline);
    for (const w of watchers) w.close();
  };
}

/** Calls `onChange` once the config file's content has changed and settled. */
export function watchConfig(file: string, onChange: () => void): () => void {
  return watchFiles([file], onChange);
}
