// Rewinding the current state to an older revision with the event history, so that every page of a paginated list
// is a consistent read at the first page's revision (what etcd gives upstream for free with a read at that revision).

export interface HistoryRow {
  rv: number;
  key: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** JSON of the object before this event (absent for ADDED). */
  prev: string | null;
}

export interface RewoundKey {
  /** The object's JSON at the target revision, or null when it did not exist then. */
  atRevision: string | null;
  /** Whether the object exists now (after the newest event). */
  existsNow: boolean;
}

/**
 * For every key touched after the target revision: its state at that revision (the state before the earliest later
 * event) and whether it exists now (decided by the newest event). `rowsNewestFirst` must be in descending rv order.
 */
export function rewindKeys(rowsNewestFirst: Iterable<HistoryRow>): Map<string, RewoundKey> {
  const keys = new Map<string, RewoundKey>();
  for (const row of rowsNewestFirst) {
    const atRevision = row.type === 'ADDED' ? null : row.prev;
    const seen = keys.get(row.key);
    if (seen) seen.atRevision = atRevision;
    else keys.set(row.key, { atRevision, existsNow: row.type !== 'DELETED' });
  }
  return keys;
}
