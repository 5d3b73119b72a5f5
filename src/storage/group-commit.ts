// Group commit: writes submitted while a batch is pending (the same turn of the event loop, or while the previous
// batch's fsync is in flight) are applied in ONE transaction and made durable by ONE fsync, instead of one of each per
// write. Each write still runs on its own inside the transaction — in submission order, under its own SAVEPOINT — so
// a write that fails its own checks (AlreadyExists, Conflict…) is rolled back alone and the others of the batch commit.
// A failure of the batch itself (disk full, I/O error) rolls everything back and every write of the batch gets it.
//
// Acknowledgement: a write's promise settles only after its batch committed and, when `sync` is given, after an fsync
// that started after that commit returned — so no acknowledged write can be lost. Its watch events are published at
// the same moment (just before), so a watcher never acts on a write that a power cut could still take back.

/** What a write leaves for after the commit: its result, and what to publish (in batch order) once durable. */
export interface WriteOutcome<T> {
  value: T;
  publish?: () => void;
}

/** The transaction the batch runs in (prepared statements of the store). */
export interface BatchTransaction {
  begin(): void;
  commit(): void;
  rollback(): void;
  /** Whether a transaction is still open (SQLite rolls some failed statements back by itself). */
  active(): boolean;
  savepoint(): void;
  release(): void;
  rollbackToSavepoint(): void;
}

export interface GroupCommitOptions {
  tx: BatchTransaction;
  /** True for an error that belongs to one write: its savepoint is rolled back and the batch goes on. */
  isWriteError(error: unknown): boolean;
  /** Before the first write of a batch (e.g. note the revision the batch starts from). */
  startBatch(): void;
  /** Inside the transaction after the writes, before COMMIT (e.g. the revision row, history pruning). */
  beforeCommit(): void;
  /** After a successful COMMIT, before the sync (e.g. advance the in-memory revision reads answer at). */
  afterCommit(): void;
  /** After a failed batch (rolled back): undo in-memory bookkeeping; returns the error every write of it gets. */
  batchFailed(error: unknown): unknown;
  /** After a failed `sync` (the batch is committed, its durability unknown): the error every write of it gets. */
  syncFailed(error: unknown): unknown;
  /** Makes everything committed so far durable (one fsync); omitted when a COMMIT is durable by itself. */
  sync?: () => Promise<void>;
}

interface Queued {
  write: () => WriteOutcome<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;
  private readonly syncer?: CoalescingSync;

  constructor(private readonly o: GroupCommitOptions) {
    if (o.sync) this.syncer = new CoalescingSync(o.sync);
  }

  /** Queues one write; it runs synchronously inside the next batch's transaction. */
  submit<T>(write: () => WriteOutcome<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not a microtask: requests whose bytes arrived in the same poll phase join this batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is queued now (also called by close()). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const { tx } = this.o;
    const outcomes: Array<WriteOutcome<unknown> | undefined> = [];
    const failures = new Map<number, unknown>();
    try {
      tx.begin();
      this.o.startBatch();
      for (let i = 0; i < batch.length; i++) {
        tx.savepoint();
        try {
          outcomes.push(batch[i].write());
          tx.release();
        } catch (error) {
          if (!this.o.isWriteError(error) || !tx.active()) throw error;
          tx.rollbackToSavepoint();
          tx.release();
          outcomes.push(undefined);
          failures.set(i, error);
        }
      }
      this.o.beforeCommit();
      tx.commit();
    } catch (error) {
      if (tx.active()) {
        try {
          tx.rollback();
        } catch {
          // the batch fails anyway; the transaction is gone with the rollback's own error
        }
      }
      const reported = this.o.batchFailed(error);
      for (const q of batch) q.reject(reported);
      return;
    }
    this.o.afterCommit();
    /** Publishes the batch's events (committed: readers see it, so watchers must too), then answers its writers. */
    const settle = (syncError?: unknown) => {
      for (const outcome of outcomes) outcome?.publish?.();
      for (let i = 0; i < batch.length; i++) {
        if (failures.has(i)) batch[i].reject(failures.get(i));
        else if (syncError !== undefined) batch[i].reject(syncError);
        else batch[i].resolve(outcomes[i]!.value);
      }
    };
    if (!this.syncer) {
      settle();
      return;
    }
    // Syncs complete in commit order (one at a time), so batches publish in revision order.
    this.syncer.afterCommit().then(
      () => settle(),
      (error: unknown) => settle(this.o.syncFailed(error)),
    );
  }

  /** Resolves once every committed write is durable (for close()). */
  async idle(): Promise<void> {
    await this.syncer?.idle();
  }
}

/**
 * At most one fsync in flight; commits made meanwhile wait for the next one, which starts when it returns and covers
 * them all (an fsync that began before a commit need not cover it).
 */
class CoalescingSync {
  private inFlight?: Promise<void>;
  private next?: Promise<void>;

  constructor(private readonly sync: () => Promise<void>) {}

  afterCommit(): Promise<void> {
    if (!this.inFlight) return this.start();
    this.next ??= this.inFlight.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  async idle(): Promise<void> {
    while (this.inFlight || this.next) await Promise.allSettled([this.inFlight, this.next]);
  }

  private start(): Promise<void> {
    this.next = undefined;
    const running = this.sync();
    this.inFlight = running;
    const clear = () => {
      if (this.inFlight === running) this.inFlight = undefined;
    };
    running.then(clear, clear);
    return running;
  }
}
