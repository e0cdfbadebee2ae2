// The audit log as JSON lines in a file, one object per event. Each write opens the file in append mode, so
// log rotation by rename needs no signal, and the CLI and the server can append to one file.
import { appendFile, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditEvent, AuditLog } from '../ports/audit.ts';
import type { Clock } from '../ports/clock.ts';

export interface FileAuditLog extends AuditLog {
  /** Resolves when every line recorded so far has been written (or has failed). */
  flushed(): Promise<void>;
}

export function fileAuditLog(path: string, clock: Clock, onError: (err: unknown) => void): FileAuditLog {
  let dirReady = false;
  let queue: Promise<void> = Promise.resolve();
  return {
    record(event: AuditEvent): void {
      const line = `${JSON.stringify({
        at: new Date(clock.now()).toISOString(),
        action: event.action,
        actor: event.actor ?? null,
        target: event.target ?? null,
        ip: event.ip ?? null,
        ...(event.detail ? { detail: event.detail } : {}),
      })}\n`;
      // Chained so lines land in the order they were recorded; a failure is reported, never thrown.
      queue = queue.then(
        () =>
          new Promise<void>((done) => {
            try {
              if (!dirReady) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
              dirReady = true;
            } catch (err) {
              onError(err);
              done();
              return;
            }
            appendFile(path, line, { mode: 0o600 }, (err) => {
              if (err) onError(err);
              done();
            });
          }),
      );
    },
    flushed: () => queue,
  };
}
