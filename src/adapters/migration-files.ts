// The numbered migration files of one SQL dialect (migrations/<dialect>/NNNN_name.sql), read once per process:
// /readyz asks for the migration state on every probe.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const read = new Map<string, Migration[]>();

export function migrationFiles(dialect: 'sqlite' | 'postgres'): Migration[] {
  let list = read.get(dialect);
  if (list === undefined) {
    const dir = fileURLToPath(new URL(`../../migrations/${dialect}/`, import.meta.url));
    list = readdirSync(dir)
      .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
      .sort()
      .map((name) => ({
        version: Number(name.slice(0, 4)),
        name,
        sql: readFileSync(`${dir}${name}`, 'utf8'),
      }));
    read.set(dialect, list);
  }
  return list;
}
