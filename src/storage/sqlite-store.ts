// The embedded Store: one SQLite file (better-sqlite3, synchronous), objects as JSON, a store-wide revision and a
// bounded event history that lets watches and paginated lists resume within the window, even after a restart.
//
// Durability: WAL journal; by default (`synchronous: 'FULL'`) a write is acknowledged only after an fsync of the WAL
// that began after its commit returned, so it survives kill -9 and also power loss (etcd fsyncs every commit the same
// way). The fsync runs off the event loop (libuv's thread pool, on the WAL file) instead of inside COMMIT (SQLite's own
// synchronous=FULL), so one fsync covers every write committed while the previous one was in flight (group commit, see
// group-commit.ts); SQLite itself runs with synchronous=NORMAL, which in WAL mode still write()s a commit's frames to
// the WAL before COMMIT returns and keeps the file consistent on a power cut. `synchronous: 'NORMAL'` skips the fsync:
// a write survives the death of the process (kill -9, OOM; the frames sit in the OS page cache), not a power cut.
// A committed write is visible to reads from its commit on, up to one fsync before its writer hears of it; its watch
// event is published when the writer is answered, once it is durable.
//
// Concurrency: better-sqlite3 is synchronous and this process is the only writer. Writes are queued and applied in
// batches, one transaction per batch (group-commit.ts); each write's read-check-write runs inside it, in submission
// order, without yielding, so the event loop never sees a half-done write. Watchers are fed in revision order when the
// batch's writers are answered.
//
// Copies: get/list/create/update/delete/guaranteedUpdate return fresh objects (parsed from the stored JSON) that the
// caller may mutate. Watch events are deep-frozen and shared by all watchers (see deep-freeze.ts).
import { KeyedMutex } from './keyed-mutex.js';
import { closeSync, existsSync, fdatasync, fsyncSync, openSync, statSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import Database from 'better-sqlite3';
import {
  StorageError,
  type DeletePreconditions,
  type ListOptions,
  type ListResult,
  type ObjectRef,
  type Store,
  type StoredObject,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from './store.js';
import { APPLICATION_ID, LATEST_SCHEMA_VERSION, MIGRATIONS } from './sqlite-schema.js';
import { WatchHub, bookmarkEvent } from './watch-hub.js';
import { deepFreeze } from './deep-freeze.js';
import { assertKeyPart, compareKeys, namespaceRange, objectKey } from './object-key.js';
import { encodeContinue } from './continue-token.js';
import { resolveListPosition, resolveWatchStart, type Window } from './resource-version.js';
import { rewindKeys, type HistoryRow } from './history-rewind.js';
import { GroupCommit, type WriteOutcome } from './group-commit.js';

export interface SqliteStoreOptions {
  /** A file path, or ':memory:' (tests). */
  path: string;
  /** Keep at most this many events in the history (default 10,000). */
  historyMaxEvents?: number;
  /** Prune events older than this (default one hour). */
  historyMaxAgeMs?: number;
  /** 'FULL' (default: acknowledged after an fsync) or 'NORMAL' (after the write to the WAL); see the header comment. */
  synchronous?: 'FULL' | 'NORMAL';
  now?: () => number;
}

/** The file cannot be used as a store; it has not been modified. */
export class StoreOpenError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

const MAX_UPDATE_TRIES = 10;
const PRUNE_BATCH = 1000;

interface ObjectRow {
  rv: number;
  data: string;
}

interface KeyedRow {
  key: string;
  data: string;
}

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  return {
    get: db.prepare<[string, string], ObjectRow>('SELECT rv, data FROM objects WHERE resource = ? AND key = ?'),
    insert: db.prepare<[string, string, string, number, string]>(
      'INSERT INTO objects (resource, key, namespace, rv, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    update: db.prepare<[number, string, string, string]>(
      'UPDATE objects SET rv = ?, data = ? WHERE resource = ? AND key = ?',
    ),
    remove: db.prepare<[string, string]>('DELETE FROM objects WHERE resource = ? AND key = ?'),
    // Guarded by the revision this process last wrote: a second server writing the same file is caught, not merged.
    setRevision: db.prepare<[number, number]>('UPDATE revision SET current = ? WHERE id = 1 AND current = ?'),
    revision: db.prepare<[], { current: number }>('SELECT current FROM revision WHERE id = 1'),
    insertEvent: db.prepare<[number, string, string, string, string, string, string | null, number]>(
      'INSERT INTO events (rv, resource, key, namespace, type, object, prev, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    rowsFrom: db.prepare<[string, string], KeyedRow>(
      'SELECT key, data FROM objects WHERE resource = ? AND key >= ? ORDER BY key',
    ),
    rowsFromIn: db.prepare<[string, string, string], KeyedRow>(
      'SELECT key, data FROM objects WHERE resource = ? AND key >= ? AND key < ? ORDER BY key',
    ),
    countAfter: db.prepare<[string, string], { n: number }>(
      'SELECT count(*) AS n FROM objects WHERE resource = ? AND key > ?',
    ),
    countAfterIn: db.prepare<[string, string, string], { n: number }>(
      'SELECT count(*) AS n FROM objects WHERE resource = ? AND key > ? AND key < ?',
    ),
    historyNewestFirst: db.prepare<[string, number, string], HistoryRow>(
      'SELECT rv, key, type, prev FROM events WHERE resource = ? AND rv > ? AND key >= ? ORDER BY rv DESC',
    ),
    historyNewestFirstIn: db.prepare<[string, number, string, string], HistoryRow>(
      'SELECT rv, key, type, prev FROM events WHERE resource = ? AND rv > ? AND key >= ? AND key < ? ORDER BY rv DESC',
    ),
    anyEventAfter: db.prepare<[string, number], { rv: number }>(
      'SELECT rv FROM events WHERE resource = ? AND rv > ? LIMIT 1',
    ),
    replay: db.prepare<[string, number], EventRow>(
      'SELECT rv, type, object, prev FROM events WHERE resource = ? AND rv > ? ORDER BY rv',
    ),
    replayIn: db.prepare<[string, number, string], EventRow>(
      'SELECT rv, type, object, prev FROM events WHERE resource = ? AND rv > ? AND namespace = ? ORDER BY rv',
    ),
    oldestEvents: db.prepare<[number, number], { rv: number; at: number }>(
      'SELECT rv, at FROM events WHERE rv > ? ORDER BY rv LIMIT ?',
    ),
    pruneTo: db.prepare<[number]>('DELETE FROM events WHERE rv <= ?'),
    setCompacted: db.prepare<[number]>('UPDATE revision SET compacted = ? WHERE id = 1'),
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT write'),
    release: db.prepare('RELEASE write'),
    rollbackToSavepoint: db.prepare('ROLLBACK TO write'),
  };
}

interface EventRow {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: string;
  prev: string | null;
}

/**
 * Checks, without writing anything, that `path` is absent, empty, or a store of a schema this server knows.
 * Returns the file's schema version (0 for a new file).
 */
function inspectFile(path: string): number {
  if (path === ':memory:' || !existsSync(path) || statSync(path).size === 0) return 0;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    if (applicationId !== APPLICATION_ID) {
      if (applicationId === 0 && tables.length === 0) return 0;
      throw new StoreOpenError(
        path,
        `${path} is not this server's object store (SQLite application_id ${applicationId}, tables: ${
          tables.map((t) => t.name).join(', ') || 'none'
        }); refusing to touch it — point the data directory elsewhere`,
      );
    }
    const row = db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_version').get();
    const version = row?.v ?? 0;
    if (version > LATEST_SCHEMA_VERSION) {
      throw new StoreOpenError(
        path,
        `${path} has store schema version ${version}, newer than this server supports (${LATEST_SCHEMA_VERSION}); ` +
          'run a newer server or restore a backup made by this version',
      );
    }
    return version;
  } catch (error) {
    if (error instanceof StoreOpenError) throw error;
    throw new StoreOpenError(
      path,
      `${path} cannot be opened as this server's object store: ${(error as Error).message}`,
    );
  } finally {
    db?.close();
  }
}

export class SqliteStore implements Store {
  private readonly st: Statements;
  private readonly hub: WatchHub;
  private current: number;
  /** The revision up to which watch events have been published (behind `current` while a batch awaits its fsync). */
  private published: number;
  private compacted: number;
  private closed = false;
  private readonly keyLocks = new KeyedMutex();
  private readonly maxEvents: number;
  private readonly maxAgeMs: number;
  private readonly pruneSlack: number;
  private readonly ageCheckMs: number;
  private lastAgeCheck: number;
  private readonly now: () => number;
  private readonly commits: GroupCommit;
  /** The revision of the last write applied in the batch being written (equals `current` between batches). */
  private batchRv = 0;
  /** What the batch being written pruned the history to (equals `compacted` between batches). */
  private batchCompacted = 0;
  /** The WAL file, opened on the first fsync; undefined while none was needed. */
  private walFd?: number;

  static open(options: SqliteStoreOptions): SqliteStore {
    const version = inspectFile(options.path);
    let db: Database.Database;
    try {
      db = new Database(options.path);
    } catch (error) {
      throw new StoreOpenError(options.path, `cannot open ${options.path}: ${(error as Error).message}`);
    }
    try {
      db.pragma('busy_timeout = 5000');
      const wal = options.path !== ':memory:' && db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
      // With a WAL file, FULL durability comes from the store's own fsync of it before acknowledging (see the header
      // comment); anything else (:memory:, a temporary database) keeps SQLite's own FULL.
      const walPath = wal ? resolvePath(`${options.path}-wal`) : undefined;
      db.pragma(`synchronous = ${walPath ? 'NORMAL' : 'FULL'}`);
      for (const migration of MIGRATIONS) {
        if (migration.version <= version) continue;
        db.transaction(() => {
          db.exec(migration.sql);
          db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(
            migration.version,
            migration.name,
            new Date().toISOString(),
          );
          db.pragma(`application_id = ${APPLICATION_ID}`);
        }).immediate();
      }
      return new SqliteStore(db, options, options.synchronous === 'NORMAL' ? undefined : walPath);
    } catch (error) {
      db.close();
      if (error instanceof StoreOpenError) throw error;
      throw new StoreOpenError(options.path, `cannot open ${options.path}: ${(error as Error).message}`);
    }
  }

  /** @param walPath the WAL file to fsync before acknowledging a write; undefined when SQLite's COMMIT is enough. */
  private constructor(
    private readonly db: Database.Database,
    options: SqliteStoreOptions,
    walPath: string | undefined,
  ) {
    this.now = options.now ?? Date.now;
    this.maxEvents = Math.max(1, options.historyMaxEvents ?? 10_000);
    this.maxAgeMs = options.historyMaxAgeMs ?? 60 * 60 * 1000;
    // Prune in batches once the history is a little over its bound, not on every write.
    this.pruneSlack = Math.min(256, Math.floor(this.maxEvents / 16));
    this.ageCheckMs = Math.min(10_000, Math.max(1, Math.floor(this.maxAgeMs / 10)));
    this.st = prepare(db);
    const revision = db.prepare<[], Window>('SELECT current, compacted FROM revision WHERE id = 1').get();
    this.current = revision?.current ?? 0;
    this.compacted = revision?.compacted ?? 0;
    this.published = this.current;
    this.batchRv = this.current;
    this.batchCompacted = this.compacted;
    // Bookmarks must not run ahead of published events (a watcher drops events at or below a bookmark's revision).
    this.hub = new WatchHub(() => this.published);
    this.lastAgeCheck = this.now();
    this.commits = new GroupCommit({
      tx: {
        begin: () => this.st.begin.run(),
        commit: () => this.st.commit.run(),
        rollback: () => this.st.rollback.run(),
        active: () => this.db.inTransaction,
        savepoint: () => this.st.savepoint.run(),
        release: () => this.st.release.run(),
        rollbackToSavepoint: () => this.st.rollbackToSavepoint.run(),
      },
      isWriteError: (error) => error instanceof StorageError,
      startBatch: () => this.startBatch(),
      beforeCommit: () => this.beforeCommit(),
      afterCommit: () => {
        this.current = this.batchRv;
        this.compacted = this.batchCompacted;
      },
      batchFailed: (error) => {
        this.batchRv = this.current;
        this.batchCompacted = this.compacted;
        return writeFailed(error);
      },
      syncFailed: (error) => writeFailed(error),
      sync: walPath === undefined ? undefined : () => this.syncWal(walPath),
    });
    while (this.pruneHistory() > 0) {
      // catch up on pruning left over from before a restart
    }
  }

  async get(ref: ObjectRef): Promise<StoredObject | undefined> {
    this.assertOpen();
    const row = this.st.get.get(ref.resource, refKey(ref));
    return row ? (JSON.parse(row.data) as StoredObject) : undefined;
  }

  async list(resource: string, options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    const position = resolveListPosition(options, this.window());
    const namespace = options.namespace || undefined;
    const range = namespace === undefined ? undefined : namespaceRange(namespace);
    let start = position.start;
    if (range && compareKeys(start, range.from) < 0) start = range.from;
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    const predicate = options.predicate;

    // Only keys touched after the list's revision need rewinding; usually there are none.
    const rewound =
      position.rv < this.current && this.st.anyEventAfter.get(resource, position.rv)
        ? rewindKeys(
            range
              ? this.st.historyNewestFirstIn.iterate(resource, position.rv, start, range.to)
              : this.st.historyNewestFirst.iterate(resource, position.rv, start),
          )
        : undefined;
    const rewoundKeys = rewound ? [...rewound.keys()].sort(compareKeys) : [];
    let r = 0;

    const items: StoredObject[] = [];
    let lastKey: string | undefined;
    let more = false;
    const consider = (key: string, data: string | null): boolean => {
      if (data === null) return true;
      const obj = JSON.parse(data) as StoredObject;
      if (predicate && !predicate(obj)) return true;
      if (items.length >= limit) {
        more = true;
        return false;
      }
      items.push(obj);
      lastKey = key;
      return true;
    };
    const rows = range ? this.st.rowsFromIn.iterate(resource, start, range.to) : this.st.rowsFrom.iterate(resource, start);
    let going = true;
    for (const row of rows) {
      while (going && r < rewoundKeys.length && compareKeys(rewoundKeys[r], row.key) < 0) {
        const key = rewoundKeys[r++];
        going = consider(key, rewound!.get(key)!.atRevision);
      }
      if (!going) break;
      if (rewound?.has(row.key)) continue; // taken from the history, in key order above or below
      going = consider(row.key, row.data);
      if (!going) break;
    }
    while (going && r < rewoundKeys.length) {
      const key = rewoundKeys[r++];
      going = consider(key, rewound!.get(key)!.atRevision);
    }

    const result: ListResult = { items, resourceVersion: String(position.rv) };
    if (more && lastKey !== undefined) {
      result.continue = encodeContinue({ rv: position.rv, start: `${lastKey}\u0000` });
      if (!predicate) result.remainingItemCount = this.countAfter(resource, lastKey, range, rewound);
    }
    return result;
  }

  async create(resource: string, obj: StoredObject): Promise<StoredObject> {
    this.assertOpen();
    assertKeyPart('name', obj.metadata?.name);
    if (obj.metadata.namespace) assertKeyPart('namespace', obj.metadata.namespace);
    return JSON.parse(await this.commits.submit(() => this.createWrite(resource, obj))) as StoredObject;
  }

  async update(resource: string, obj: StoredObject): Promise<StoredObject> {
    this.assertOpen();
    assertKeyPart('name', obj.metadata?.name);
    return JSON.parse(await this.commits.submit(() => this.updateWrite(resource, obj))) as StoredObject;
  }

  async guaranteedUpdate(
    ref: ObjectRef,
    mutate: (current: StoredObject | undefined) => StoredObject | undefined | Promise<StoredObject | undefined>,
  ): Promise<StoredObject> {
    this.assertOpen();
    const key = refKey(ref);
    return this.keyLocks.run(`${ref.resource}\u0000${key}`, async () => {
      let lastConflict: StorageError | undefined;
      for (let attempt = 0; attempt < MAX_UPDATE_TRIES; attempt++) {
        this.assertOpen();
        const row = this.st.get.get(ref.resource, key);
        const current = row ? (JSON.parse(row.data) as StoredObject) : undefined;
        const pending = mutate(current);
        const next = isPromise(pending) ? await pending : pending;
        this.assertOpen();
        if (next === undefined) {
          if (!row) throw notFound(ref);
          return JSON.parse(row.data) as StoredObject;
        }
        const desired: StoredObject = {
          ...next,
          metadata: {
            ...next.metadata,
            name: ref.name,
            namespace: ref.namespace || undefined,
            resourceVersion: row ? String(row.rv) : undefined,
          },
        };
        try {
          const text = await this.commits.submit(() =>
            row ? this.updateWrite(ref.resource, desired) : this.createWrite(ref.resource, desired),
          );
          return JSON.parse(text) as StoredObject;
        } catch (error) {
          if (error instanceof StorageError && (error.code === 'Conflict' || error.code === 'AlreadyExists')) {
            lastConflict = error;
            continue;
          }
          throw error;
        }
      }
      throw lastConflict!;
    });
  }

  async delete(ref: ObjectRef, preconditions: DeletePreconditions = {}): Promise<StoredObject> {
    this.assertOpen();
    const key = refKey(ref);
    const namespace = ref.namespace ?? '';
    const objectText = await this.commits.submit((): WriteOutcome<string> => {
      const row = this.st.get.get(ref.resource, key);
      if (!row) throw notFound(ref);
      const stored = JSON.parse(row.data) as StoredObject;
      if (preconditions.uid !== undefined && preconditions.uid !== stored.metadata.uid) {
        throw preconditionFailed(ref, 'UID', preconditions.uid, stored.metadata.uid);
      }
      if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== String(row.rv)) {
        throw preconditionFailed(ref, 'ResourceVersion', preconditions.resourceVersion, String(row.rv));
      }
      const rv = this.batchRv + 1;
      const text = JSON.stringify({ ...stored, metadata: { ...stored.metadata, resourceVersion: String(rv) } });
      this.st.remove.run(ref.resource, key);
      return this.record(rv, ref.resource, key, namespace, 'DELETED', text, row.data);
    });
    return JSON.parse(objectText) as StoredObject;
  }

  watch(resource: string, options: WatchOptions = {}): Watch {
    const watcher = this.hub.subscribe(resource, {
      namespace: options.namespace,
      maxQueuedEvents: options.maxQueuedEvents,
      bookmarkIntervalMs: options.bookmarkIntervalMs,
    });
    if (this.closed) return watcher;
    try {
      // Synchronous from here to startLive: no write can land between reading the state and going live, and the
      // watcher was subscribed first anyway (it buffers and dedupes by revision). Committed writes whose events
      // await their batch's fsync are in the state read here; their events, published later, are dropped as
      // duplicates (at or below initialRv).
      const start = resolveWatchStart(options.resourceVersion, options.sendInitialEvents, this.window());
      const namespace = options.namespace || undefined;
      const initialRv = this.current;
      if (start.kind === 'replay') {
        watcher.setInitial(this.replay(resource, namespace, start.after));
        watcher.startLive(initialRv);
      } else {
        const events = this.currentState(resource, namespace);
        if (start.kind === 'initial-events') events.push(bookmarkEvent(initialRv, true));
        watcher.setInitial(events);
        watcher.startLive(initialRv);
      }
    } catch (error) {
      if (error instanceof StorageError) watcher.fail(error);
      else throw error;
    }
    return watcher;
  }

  async currentResourceVersion(): Promise<string> {
    this.assertOpen();
    return String(this.current);
  }

  async ready(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Writes already accepted are committed (and, with FULL, made durable) before the file closes.
    this.commits.flush();
    await this.commits.idle();
    this.hub.closeAll();
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.db.close();
  }

  /**
   * Deletes one batch of events beyond the count or age bound; returns how many. Runs by itself after writes when the
   * history is over its bounds; exposed for tests and maintenance.
   */
  pruneHistory(): number {
    const target = this.pruneTarget(this.current, this.compacted);
    if (target <= this.compacted) return 0;
    const pruned = target - this.compacted;
    this.inTransaction(() => {
      this.st.pruneTo.run(target);
      this.st.setCompacted.run(target);
    });
    this.compacted = target;
    this.batchCompacted = target;
    return pruned;
  }

  /**
   * A consistent copy of the store into `destination` while it keeps serving (SQLite's online backup API, the same
   * as `sqlite3 store.db ".backup <destination>"`). The copy opens like the original, history window included.
   */
  async backup(destination: string): Promise<void> {
    this.assertOpen();
    await this.db.backup(destination);
  }

  /** The oldest revision a watch or an exact list can still start from. */
  oldestResourceVersion(): string {
    return String(this.compacted);
  }

  /** The revision one batch of pruning would bring `compacted` to (not above it: nothing to prune). */
  private pruneTarget(current: number, compacted: number): number {
    const byCount = current - this.maxEvents;
    let byAge = compacted;
    const cutoff = this.now() - this.maxAgeMs;
    for (const row of this.st.oldestEvents.all(compacted, PRUNE_BATCH)) {
      if (row.at >= cutoff) break;
      byAge = row.rv;
    }
    return Math.min(Math.max(byCount, byAge), compacted + PRUNE_BATCH);
  }

  /** Inside a batch's transaction, before its first write. */
  private startBatch(): void {
    this.batchRv = this.current;
    this.batchCompacted = this.compacted;
    if (this.st.revision.get()?.current !== this.current) throw writtenElsewhere();
  }

  /** Inside a batch's transaction, after its writes: the revision row, and pruning when due (no commit of its own). */
  private beforeCommit(): void {
    if (this.batchRv === this.current) return;
    if (this.st.setRevision.run(this.batchRv, this.current).changes !== 1) throw writtenElsewhere();
    const now = this.now();
    if (this.batchRv - this.compacted - this.maxEvents > this.pruneSlack || now - this.lastAgeCheck >= this.ageCheckMs) {
      this.lastAgeCheck = now;
      const target = this.pruneTarget(this.batchRv, this.compacted);
      if (target > this.compacted) {
        this.st.pruneTo.run(target);
        this.st.setCompacted.run(target);
        this.batchCompacted = target;
      }
    }
  }

  /**
   * One fdatasync of the WAL (and, the first time, an fsync of its directory entry) — off the event loop. fdatasync is
   * what SQLite's own synchronous=FULL calls on Linux: the data and the size, not the timestamps.
   */
  private syncWal(walPath: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.walFd === undefined) {
        this.walFd = openSync(walPath, 'r');
        const dir = openSync(dirname(walPath), 'r');
        try {
          fsyncSync(dir);
        } finally {
          closeSync(dir);
        }
      }
      fdatasync(this.walFd, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Inside a batch: one create; resolves to the stored text. */
  private createWrite(resource: string, obj: StoredObject): WriteOutcome<string> {
    const namespace = obj.metadata.namespace ?? '';
    const key = objectKey(namespace, obj.metadata.name);
    const rv = this.batchRv + 1;
    const text = JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } });
    if (this.st.insert.run(resource, key, namespace, rv, text).changes === 0) {
      throw new StorageError('AlreadyExists', `${resource} "${obj.metadata.name}" already exists`, {
        resource,
        namespace,
        name: obj.metadata.name,
      });
    }
    return this.record(rv, resource, key, namespace, 'ADDED', text, null);
  }

  /** Inside a batch: one compare-and-swap update; resolves to the stored text. */
  private updateWrite(resource: string, obj: StoredObject): WriteOutcome<string> {
    const namespace = obj.metadata.namespace ?? '';
    const ref = { resource, namespace, name: obj.metadata.name };
    const key = objectKey(namespace, obj.metadata.name);
    const expected = obj.metadata.resourceVersion;
    const row = this.st.get.get(resource, key);
    if (!row) throw notFound(ref);
    if (expected !== String(row.rv)) {
      throw new StorageError(
        'Conflict',
        `Operation cannot be fulfilled on ${resource} "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        ref,
        { expected, actual: String(row.rv) },
      );
    }
    // Like upstream's GuaranteedUpdate, writing identical content is a no-op: no new revision, no event.
    if (JSON.stringify(obj) === row.data) return { value: row.data };
    const rv = this.batchRv + 1;
    const text = JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } });
    this.st.update.run(rv, text, resource, key);
    return this.record(rv, resource, key, namespace, 'MODIFIED', text, row.data);
  }

  /**
   * Inside a batch, the last step of a write: append the event and take the revision. Once the batch is durable, the
   * write's event is published (in batch order, so in revision order).
   */
  private record(
    rv: number,
    resource: string,
    key: string,
    namespace: string,
    type: EventRow['type'],
    object: string,
    prev: string | null,
  ): WriteOutcome<string> {
    this.st.insertEvent.run(rv, resource, key, namespace, type, object, prev, this.now());
    this.batchRv = rv;
    return {
      value: object,
      publish: () => {
        this.published = rv;
        this.hub.publish(resource, namespace, rv, () => toEvent({ rv, type, object, prev }));
      },
    };
  }

  private replay(resource: string, namespace: string | undefined, after: number): WatchEvent[] {
    const rows =
      namespace === undefined ? this.st.replay.all(resource, after) : this.st.replayIn.all(resource, after, namespace);
    return rows.map(toEvent);
  }

  private currentState(resource: string, namespace: string | undefined): WatchEvent[] {
    const range = namespace === undefined ? undefined : namespaceRange(namespace);
    const rows = range ? this.st.rowsFromIn.all(resource, range.from, range.to) : this.st.rowsFrom.all(resource, '');
    return rows.map((row) => {
      const object = deepFreeze(JSON.parse(row.data) as StoredObject);
      return { type: 'ADDED', object, resourceVersion: object.metadata.resourceVersion ?? '' };
    });
  }

  private countAfter(
    resource: string,
    lastKey: string,
    range: { to: string } | undefined,
    rewound: Map<string, { atRevision: string | null; existsNow: boolean }> | undefined,
  ): number {
    let n = range ? this.st.countAfterIn.get(resource, lastKey, range.to)!.n : this.st.countAfter.get(resource, lastKey)!.n;
    if (rewound) {
      for (const [key, state] of rewound) {
        if (compareKeys(key, lastKey) <= 0) continue;
        n += (state.atRevision === null ? 0 : 1) - (state.existsNow ? 1 : 0);
      }
    }
    return n;
  }

  /** One small write transaction outside the batches (history pruning on demand). */
  private inTransaction(write: () => void): void {
    this.st.begin.run();
    try {
      write();
      this.st.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.st.rollback.run();
      throw writeFailed(error);
    }
  }

  private window(): Window {
    return { current: this.current, compacted: this.compacted };
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('Unavailable', 'the store is closed');
  }
}

function toEvent(row: EventRow): WatchEvent {
  const event: WatchEvent = {
    type: row.type,
    object: JSON.parse(row.object) as StoredObject,
    resourceVersion: String(row.rv),
  };
  if (row.prev !== null) event.prevObject = JSON.parse(row.prev) as StoredObject;
  return deepFreeze(event);
}

function refKey(ref: ObjectRef): string {
  assertKeyPart('name', ref.name);
  if (ref.namespace) assertKeyPart('namespace', ref.namespace);
  return objectKey(ref.namespace, ref.name);
}

function writtenElsewhere(): StorageError {
  return new StorageError(
    'Unavailable',
    'the store file was written by another process; only one server may use a data directory at a time',
  );
}

/** Disk full, I/O error, a locked file: the write did not happen (or, for a failed fsync, may not last). */
function writeFailed(error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError('Unavailable', `store write failed: ${(error as Error).message}`);
}

function notFound(ref: ObjectRef): StorageError {
  return new StorageError('NotFound', `${ref.resource} "${ref.name}" not found`, ref);
}

function preconditionFailed(ref: ObjectRef, field: 'UID' | 'ResourceVersion', expected: string, actual?: string) {
  return new StorageError(
    'PreconditionFailed',
    `Precondition failed: ${field} in precondition: ${expected}, ${field} in object meta: ${actual ?? ''}`,
    ref,
    { field, expected, actual },
  );
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
