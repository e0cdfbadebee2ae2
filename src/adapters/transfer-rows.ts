// What the SQLite and PostgreSQL halves of `store copy` share: quoting names read from the schema, and taking a
// column's value out of a copied row.
import type { TransferRow, TransferValue } from '../ports/store-transfer.ts';

/** A table or column name as both dialects quote it (names come from the schema, but are never trusted raw). */
export const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A row's value for a column; a row without it is a source that does not match this schema, never a NULL. */
export function columnValue(row: TransferRow, table: string, column: string): TransferValue {
  const v = row[column];
  if (v === undefined) throw new Error(`${table}.${column} is missing from the rows copied`);
  return v;
}
