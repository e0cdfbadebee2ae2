// Watching the config file for changes. The directory is watched, not the file: editors save by writing a new
// file and renaming it over the old one, and Kubernetes swaps a `..data` symlink, and both leave a watch on
// the old inode deaf. Events are debounced, and only a change of content triggers a reload.
import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';

const DEBOUNCE_MS = 250;

function contentHash(file: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null; // mid-swap: the next event brings the new file
  }
}

/** Calls `onChange` once the file's content has changed and settled. Returns a function that stops watching. */
export function watchConfig(file: string, onChange: () => void): () => void {
  let last = contentHash(file);
  let timer: NodeJS.Timeout | null = null;
  let watcher: FSWatcher | null = null;
  const check = () => {
    timer = null;
    const now = contentHash(file);
    if (now === null || now === last) return;
    last = now;
    onChange();
  };
  try {
    watcher = watch(dirname(file), { persistent: false }, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(check, DEBOUNCE_MS);
    });
    watcher.on('error', () => {});
  } catch {
    // No watch support (some network filesystems): SIGHUP still reloads.
  }
  return () => {
    if (timer) clearTimeout(timer);
    watcher?.close();
  };
}
