/**
 * The engine-neutral shape `orchard db copy` moves tables in: what one adapter reads and another
 * writes, so adapters never import each other. Internal to `src/storage/`.
 */

/** One table of the source database, read in batches. */
export interface TableSource {
  table: string;
  /** Column names, in row order. */
  columns: string[];
  /** Rows in the table. */
  count: number;
  /** The rows in batches of at most `size`, values as the source engine returns them. */
  batches(size: number): Iterable<unknown[][]>;
}

/** What a copy of one table did. */
export interface TableCopyReport {
  table: string;
  /** Rows read from the source. */
  source: number;
  /** Rows the target holds after the copy (read back). */
  target: number;
  /**
   * True when the rows read back equal the source rows value for value (compared as a multiset
   * of per-row SHA-256 digests over normalised values, so row order does not matter).
   */
  verified: boolean;
}
