// The scale run's summary block (bench/scale.ts), stating what was measured next to each number.
import { fmt } from './load.ts';
import { megabytes } from './memory.ts';
import type { ScaleResult } from './scale.ts';

const n = (x: number) => x.toLocaleString('en-US');

export function printScale(r: ScaleResult): void {
  const { size, measured: m, memory, purge: p } = r;
  console.log(
    `\nscale run: the local route on a PostgreSQL store (the default config otherwise), ${n(size.users)} users and ` +
      `${n(size.sessions)} sessions`,
  );
  console.log(
    `  setup (not measured): bulk-loaded with INSERT … SELECT generate_series, then VACUUM ANALYZE, in ` +
      `${fmt(r.seedSeconds, 1)} s; schema ${r.schema.join(', ')}`,
  );
  console.log(
    `  load: ${r.connections} connections, each request a different session, each session used once: the ` +
      "gateway's session and claims caches are cold for every request (the first request of a session also " +
      'renews its last-seen time: one write)',
  );
  const w = r.warmup;
  console.log(
    `  warm-up (excluded): ${n(size.warmup)} other sessions, ${fmt(w.requests / w.seconds)} req/s, ` +
      `p99 ${fmt(w.p99, 2)} ms`,
  );
  const cpu = m.cpuUsPerRequest === null ? '' : `, ${fmt(m.cpuUsPerRequest)} µs gateway CPU/req`;
  console.log(
    `  measured: ${n(m.requests)} of ${n(size.requests)} sessions answered in ${fmt(m.seconds, 1)} s: ` +
      `${fmt(m.rps)} req/s, p50 ${fmt(m.p50, 2)} ms, p99 ${fmt(m.p99, 2)} ms (10 µs resolution), ` +
      `${m.non2xx} non-2xx, ${m.errors} errors${cpu}`,
  );
  console.log(
    `  gateway RSS: ${megabytes(memory.started?.rss)} after start, ${megabytes(memory.warmed?.rss)} after ` +
      `the warm-up, ${megabytes(memory.after?.rss)} after the measured requests ` +
      `(peak ${megabytes(memory.after?.peak)})`,
  );
  console.log(
    `  housekeeping: one purge pass (purgeStale: sessions.deleteExpired, then throttles, links, mails) through ` +
      `the store as the gateway opens it (statement timeout ${fmt(p.statementTimeoutMs / 1000, 1)} s), its ` +
      `clock ${fmt(p.shiftMs / 3_600_000, 1)} h ahead, when ${n(p.expired)} of ${n(p.sessions)} sessions ` +
      'are expired',
  );
  if (p.error === null && p.purged !== null) {
    const others = Object.entries(p.purged)
      .filter(([table]) => table !== 'sessions')
      .map(([table, count]) => `${n(count)} ${table}`)
      .join(', ');
    console.log(
      `    ${fmt(p.seconds, 2)} s: deleted ${n(p.purged.sessions ?? 0)} sessions (${others}); ` +
        `${n(p.remaining)} sessions remain`,
    );
  } else {
    console.log(`    FAILED after ${fmt(p.seconds, 2)} s: ${p.error}; ${n(p.remaining)} sessions remain`);
  }
  if (r.flagged)
    console.log(
      '  FLAGGED: not every session was answered with a 2xx (or some were never asked): not valid numbers',
    );
}
