// The SQLite file layout and its ordered migrations. A migration is applied once, in its own transaction, and
// recorded in `schema_version`; a server never opens a file whose recorded version is newer than it knows.

/** PRAGMA application_id marks the file as ours ("VSAS" as a big-endian 32-bit integer). */
export const APPLICATION_ID = 0x56534153;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'objects, revision, event history',
    sql: `
      CREATE TABLE schema_version (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at TEXT NOT NULL
      );
      -- One row: the store-wide revision and the newest revision already pruned from the history
      -- (a watch or list at a revision below it cannot be served any more).
      CREATE TABLE revision (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        current   INTEGER NOT NULL,
        compacted INTEGER NOT NULL
      );
      INSERT INTO revision (id, current, compacted) VALUES (1, 0, 0);
      -- key = "<namespace>/<name>" or "<name>" (see object-key.ts); rv duplicates metadata.resourceVersion so that
      -- compare-and-swap needs no JSON parsing.
      CREATE TABLE objects (
        resource  TEXT NOT NULL,
        key       TEXT NOT NULL,
        namespace TEXT NOT NULL,
        rv        INTEGER NOT NULL,
        data      TEXT NOT NULL,
        PRIMARY KEY (resource, key)
      ) WITHOUT ROWID;
      -- Every write makes exactly one event, so rv is dense from compacted+1 to current.
      CREATE TABLE events (
        rv        INTEGER PRIMARY KEY,
        resource  TEXT NOT NULL,
        key       TEXT NOT NULL,
        namespace TEXT NOT NULL,
        type      TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
        object    TEXT NOT NULL,
        prev      TEXT,
        at        INTEGER NOT NULL
      );
      CREATE INDEX events_by_resource ON events (resource, rv);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
