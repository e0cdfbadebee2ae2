// Whole tables out of one store and into another, for moving an installation (`store copy`): rows as plain
// records keyed by column name, so two backends with the same tables and columns can exchange them.

/**
 * One column value as it leaves or enters a store: text, a number (times in ms, counters, and flags as the
 * backend keeps them: SQLite 0/1, PostgreSQL true/false), bytes, or NULL. Each backend converts what it is
 * given to its own column types on write.
 */
export type TransferValue = string | number | boolean | Uint8Array | null;
export type TransferRow = Record<string, TransferValue>;

/** The rows of one table, a batch at a time, in primary-key order. */
export type TransferRows = (table: string) => AsyncIterable<TransferRow[]>;

export interface StoreTransfer {
  /**
   * Every table that holds the installation's data, with its column names; not the store's own bookkeeping
   * (the migration ledger, the authz version counter), which each store keeps for itself.
   */
  tables(): Promise<Map<string, string[]>>;
  /** Migrations the ledger records that this build does not have: the store was written by a newer version. */
  unknownMigrations(): Promise<string[]>;
  /**
   * Calls `fn` with a reader over one consistent snapshot of the store, held until `fn` settles: rows written
   * meanwhile are not seen, so every row read agrees with every other (no child without its parent).
   */
  snapshot<T>(batchSize: number, fn: (rows: TransferRows) => Promise<T>): Promise<T>;
  /**
   * In one transaction: refuses with StoreNotEmptyError when any of `tables` holds a row that its migrations
   * did not put there; replaces the rows they did put there (the built-in role admin) with what `rows` yields;
   * writes every row `rows` yields for each table, in the order given (parents first). Returns how many rows
   * each table got. Nothing is written unless everything is.
   */
  fill(tables: readonly string[], rows: TransferRows): Promise<Map<string, number>>;
}

/** The target of a copy already holds an installation's data: copying into it would merge two of them. */
export class StoreNotEmptyError extends Error {
  /** The tables that hold rows. */
  readonly tables: string[];
  constructor(tables: string[]) {
    super(`the store is not empty (${tables.join(', ')} hold rows)`);
    this.name = 'StoreNotEmptyError';
    this.tables = tables;
  }
}
