// The Store on etcd (v3 API, the `etcd3` client): what several replicas share.
//
// Layout, as kube-apiserver's etcd3 store (k8s.io/apiserver/pkg/storage/etcd3/store.go): one key per object,
// `<prefix>/<resource>/<namespace>/<name>` (cluster-scoped: `<prefix>/<resource>/<name>`), the value the object's JSON
// without metadata.resourceVersion, which is the key's mod revision. Writes are transactions guarded by the key's
// create/mod revision (compare-and-swap), lists are range reads at one revision (continue tokens carry it), watches
// start from a revision. Compacted revisions answer Expired; an unreachable etcd answers Unavailable.
//
// Watch: one etcd watch per resource, shared by all its watchers through a WatchHub (see etcd-resource-stream.ts).
import { KeyedMutex } from './keyed-mutex.js';
import { readFileSync } from 'node:fs';
import {
  CompareResult,
  CompareTarget,
  Etcd3,
  type ICompare,
  type IKeyValue,
  type IOptions,
  type IRangeRequest,
  type IRangeResponse,
} from 'etcd3';
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
import { bookmarkEvent } from './watch-hub.js';
import { deepFreeze } from './deep-freeze.js';
import { assertKeyPart, compareKeys, namespaceRange, objectKey } from './object-key.js';
import { encodeContinue } from './continue-token.js';
import { expired, resolveListPosition, resolveWatchStart, type Window } from './resource-version.js';
import { DeferredWatch } from './etcd-deferred-watch.js';
import { ResourceStream } from './etcd-resource-stream.js';
import { Compactor } from './etcd-compactor.js';
import type { HubWatcher } from './watch-hub.js';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. ['http://127.0.0.1:2379'] or ['https://etcd-0:2379', 'https://etcd-1:2379']. */
  endpoints: string[];
  /** Key prefix without a trailing slash, e.g. '/registry/example.com'. */
  prefix: string;
  /** PEM file paths (kube's --etcd-cafile/--etcd-certfile/--etcd-keyfile). `ca` is required for https endpoints. */
  ca?: string;
  cert?: string;
  key?: string;
  /** How long to wait for a connection (and for the first request at connect). Default 5,000 ms. */
  dialTimeoutMs?: number;
  /** Deadline of every request; past it the operation fails with Unavailable. Default 5,000 ms. */
  requestTimeoutMs?: number;
  /**
   * History compaction. `intervalMs`: every interval, one replica (coordinated through etcd, as kube-apiserver's
   * --etcd-compaction-interval) compacts to the revision of one interval earlier — what production should use
   * (5 minutes upstream). `keepRevisions`: after writes, compact so that about that many revisions stay (tests).
   * Neither: no compaction by this server (leave it to etcd's --auto-compaction-* or to another client).
   */
  compaction?: { keepRevisions?: number; intervalMs?: number };
  /** Where a failed periodic compaction is reported (it is retried at the next interval). */
  onCompactionError?: (error: unknown) => void;
}

// Other replicas write too: a read-modify-write may lose several rounds in a row, so it retries longer than the
// SQLite store's and backs off with jitter so that two replicas hammering one key take turns.
const MAX_UPDATE_TRIES = 30;
const MAX_DELETE_TRIES = 10;
const READY_TIMEOUT_MS = 1000;
const PREDICATE_BATCH = 500;
/** Unlimited lists and initial watch states are read in pages of this many keys, all at one revision. */
const READ_PAGE = 500;

export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly streams = new Map<string, ResourceStream>();
  /** Watches still reading their start (not yet on a stream): close() must end them too. */
  private readonly starting = new Set<DeferredWatch>();
  /** Per resource: this replica's writes in flight and the revision of its latest acknowledged one (bookmarks). */
  private readonly writes = new Map<string, { inFlight: number; latest: number }>();
  private readonly keyLocks = new KeyedMutex();
  private readonly rootKey: Buffer;
  private readonly keepRevisions: number | undefined;
  private readonly compactSlack: number;
  /** The newest compaction revision seen (etcd keeps the state at it; older revisions are gone). */
  private compactedAt = 0;
  private compacting: Promise<void> | undefined;
  private readonly compactor: Compactor | undefined;
  private closed = false;

  /** Connects and checks that etcd answers; throws StorageError Unavailable when it does not within dialTimeoutMs. */
  static async connect(options: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(options);
    try {
      await store.currentRevision(options.dialTimeoutMs ?? 5000);
    } catch (error) {
      await store.close();
      throw error instanceof StorageError
        ? new StorageError('Unavailable', `cannot reach etcd at ${options.endpoints.join(',')}: ${error.message}`)
        : error;
    }
    return store;
  }

  private constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new TypeError('etcd: at least one endpoint is required');
    if (!options.prefix.startsWith('/') || options.prefix.endsWith('/')) {
      throw new TypeError(`etcd: the prefix must start with "/" and not end with one: ${JSON.stringify(options.prefix)}`);
    }
    const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    const clientOptions: IOptions = {
      hosts: options.endpoints,
      dialTimeout: options.dialTimeoutMs ?? 5000,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
      // Reconnect a broken watch stream within seconds, not the client's default of up to 30 s.
      faultHandling: { watchBackoff: backoff(100, 2000) },
      // Pages are bounded by count, not bytes: let a page of large objects through (etcd caps each at 1.5 MiB).
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
    };
    const tls = options.endpoints.some((e) => e.startsWith('https://'));
    if (tls || options.ca || options.cert || options.key) {
      if (!options.ca) throw new TypeError('etcd: a CA file is required for https endpoints (--etcd-cafile)');
      if (!!options.cert !== !!options.key) throw new TypeError('etcd: a client certificate needs its key and vice versa');
      clientOptions.credentials = {
        rootCertificate: readFileSync(options.ca),
        ...(options.cert && options.key
          ? { certChain: readFileSync(options.cert), privateKey: readFileSync(options.key) }
          : {}),
      };
    }
    this.client = new Etcd3(clientOptions);
    this.rootKey = Buffer.from(`${options.prefix}/`, 'utf8');
    const keep = options.compaction?.keepRevisions;
    this.keepRevisions = keep !== undefined && keep > 0 ? Math.floor(keep) : undefined;
    this.compactSlack = this.keepRevisions === undefined ? 0 : Math.min(256, Math.floor(this.keepRevisions / 16));
    const intervalMs = options.compaction?.intervalMs;
    if (intervalMs && intervalMs > 0) {
      this.compactor = new Compactor(this.client, intervalMs, (revision) => this.compact(revision), options.onCompactionError);
      this.compactor.start();
    }
  }

  async get(ref: ObjectRef): Promise<StoredObject | undefined> {
    this.assertOpen();
    const res = await this.range({ key: this.objectKeyOf(ref) });
    const kv = res.kvs[0];
    return kv ? decode(kv.value, Number(kv.mod_revision)) : undefined;
  }

  async list(resource: string, options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    const latest =
      !options.continue && (options.resourceVersion === undefined || ['', '0'].includes(options.resourceVersion));
    // Only a list at a given revision needs the current one first (for TooLargeResourceVersion).
    const position = latest
      ? { rv: 0, start: '' }
      : resolveListPosition(options, await this.window());
    const prefix = resourcePrefix(this.rootKey, resource);
    const namespace = options.namespace || undefined;
    const range = namespace === undefined ? undefined : namespaceRange(namespace);
    let start = position.start;
    if (range && compareKeys(start, range.from) < 0) start = range.from;
    const end = range ? Buffer.concat([prefix, Buffer.from(range.to, 'utf8')]) : prefixEnd(prefix);
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    const predicate = options.predicate;
    const batch = limit === Infinity ? READ_PAGE : predicate ? Math.max(limit + 1, PREDICATE_BATCH) : limit + 1;

    let rv = position.rv;
    let from = Buffer.concat([prefix, Buffer.from(start, 'utf8')]);
    const items: StoredObject[] = [];
    let lastKey: string | undefined;
    let more = false;
    try {
      for (;;) {
        const res = await this.range({ key: from, range_end: end, limit: batch, ...(rv ? { revision: rv } : {}) });
        if (!rv) rv = Number(res.header.revision);
        for (const kv of res.kvs) {
          const obj = decode(kv.value, Number(kv.mod_revision));
          if (predicate && !predicate(obj)) continue;
          if (items.length >= limit) {
            more = true;
            break;
          }
          items.push(obj);
          lastKey = kv.key.subarray(prefix.length).toString('utf8');
        }
        if (more || !res.more || res.kvs.length === 0) break;
        from = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
      }
    } catch (error) {
      if (isCompacted(error)) {
        throw expired(
          options.continue
            ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'
            : 'The resourceVersion for the provided list is too old.',
          rv,
          { current: rv, compacted: (await this.discoverCompacted(rv)) - 1 },
        );
      }
      throw error;
    }

    const result: ListResult = { items, resourceVersion: String(rv) };
    if (more && lastKey !== undefined) {
      result.continue = encodeContinue({ rv, start: `${lastKey}\u0000` });
      if (!predicate) {
        const rest = await this.range({
          key: Buffer.concat([prefix, Buffer.from(`${lastKey}\u0000`, 'utf8')]),
          range_end: end,
          revision: rv,
          count_only: true,
        });
        result.remainingItemCount = Number(rest.count);
      }
    }
    return result;
  }

  async create(resource: string, obj: StoredObject): Promise<StoredObject> {
    this.assertOpen();
    assertKeyPart('name', obj.metadata?.name);
    if (obj.metadata.namespace) assertKeyPart('namespace', obj.metadata.namespace);
    const key = this.keyOf(resource, obj.metadata.namespace, obj.metadata.name);
    const value = encode(obj);
    const res = await this.writing(resource, () =>
      this.client.kv.txn({
        compare: [{ key, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }],
        success: [{ request_put: { key, value } }],
        failure: [{ request_range: { key } }],
      }),
    );
    if (!res.succeeded) {
      // The etcd3 client retries a request whose response was lost; if that request had committed, the retry finds
      // our own object. Same bytes including the uid (unique per create) can only be ours: report the create.
      const existing = res.responses[0]?.response_range?.kvs[0];
      if (existing && obj.metadata.uid && existing.value.equals(value)) {
        return decode(existing.value, Number(existing.mod_revision));
      }
      throw new StorageError('AlreadyExists', `${resource} "${obj.metadata.name}" already exists`, {
        resource,
        namespace: obj.metadata.namespace ?? '',
        name: obj.metadata.name,
      });
    }
    const rv = Number(res.header.revision);
    await this.compactIfDue(rv);
    return decode(value, rv);
  }

  async update(resource: string, obj: StoredObject): Promise<StoredObject> {
    this.assertOpen();
    assertKeyPart('name', obj.metadata?.name);
    const ref = { resource, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
    const key = this.keyOf(resource, obj.metadata.namespace, obj.metadata.name);
    const expected = obj.metadata.resourceVersion;
    const value = encode(obj);
    const compare: ICompare[] = [
      {
        key,
        target: CompareTarget.Mod,
        result: CompareResult.Equal,
        mod_revision: expected !== undefined && /^[0-9]{1,15}$/.test(expected) ? expected : -1,
      },
      // Identical content writes nothing (as upstream's GuaranteedUpdate): the failure branch tells which case.
      { key, target: CompareTarget.Value, result: CompareResult.NotEqual, value },
    ];
    const res = await this.writing(resource, () =>
      this.client.kv.txn({
        compare,
        success: [{ request_put: { key, value } }],
        failure: [{ request_range: { key } }],
      }),
    );
    if (res.succeeded) {
      const rv = Number(res.header.revision);
      await this.compactIfDue(rv);
      return decode(value, rv);
    }
    const current = res.responses[0]?.response_range?.kvs[0];
    if (!current) throw notFound(ref);
    if (current.mod_revision !== expected) {
      throw new StorageError(
        'Conflict',
        `Operation cannot be fulfilled on ${resource} "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        ref,
        { expected, actual: current.mod_revision },
      );
    }
    return decode(current.value, Number(current.mod_revision));
  }

  async guaranteedUpdate(
    ref: ObjectRef,
    mutate: (current: StoredObject | undefined) => StoredObject | undefined | Promise<StoredObject | undefined>,
  ): Promise<StoredObject> {
    this.assertOpen();
    const key = this.objectKeyOf(ref);
    return this.keyLocks.run(`${ref.resource}\u0000${key.toString('utf8')}`, async () => {
      let lastConflict: StorageError | undefined;
      for (let attempt = 0; attempt < MAX_UPDATE_TRIES; attempt++) {
        this.assertOpen();
        const kv = (await this.range({ key })).kvs[0];
        const current = kv ? decode(kv.value, Number(kv.mod_revision)) : undefined;
        const next = await mutate(current === undefined ? undefined : structuredClone(current));
        this.assertOpen();
        if (next === undefined) {
          if (!current) throw notFound(ref);
          return current;
        }
        const desired: StoredObject = {
          ...next,
          metadata: {
            ...next.metadata,
            name: ref.name,
            namespace: ref.namespace || undefined,
            resourceVersion: kv ? kv.mod_revision : undefined,
          },
        };
        try {
          return kv ? await this.update(ref.resource, desired) : await this.create(ref.resource, desired);
        } catch (error) {
          if (error instanceof StorageError && ['Conflict', 'AlreadyExists', 'NotFound'].includes(error.code)) {
            lastConflict = error;
            if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
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
    const key = this.objectKeyOf(ref);
    // Read, check the preconditions, delete only if nobody wrote in between, else look again
    // (upstream's conditionalDelete, k8s.io/apiserver/pkg/storage/etcd3/store.go).
    for (let attempt = 0; ; attempt++) {
      const kv = (await this.range({ key })).kvs[0];
      if (!kv) throw notFound(ref);
      const stored = decode(kv.value, Number(kv.mod_revision));
      if (preconditions.uid !== undefined && preconditions.uid !== stored.metadata.uid) {
        throw preconditionFailed(ref, 'UID', preconditions.uid, stored.metadata.uid);
      }
      if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== kv.mod_revision) {
        throw preconditionFailed(ref, 'ResourceVersion', preconditions.resourceVersion, kv.mod_revision);
      }
      const res = await this.writing(ref.resource, () =>
        this.client.kv.txn({
          compare: [{ key, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: kv.mod_revision }],
          success: [{ request_delete_range: { key } }],
          failure: [],
        }),
      );
      if (res.succeeded) {
        const rv = Number(res.header.revision);
        await this.compactIfDue(rv);
        return decode(kv.value, rv);
      }
      if (attempt + 1 >= MAX_DELETE_TRIES) {
        throw new StorageError(
          'Conflict',
          `Operation cannot be fulfilled on ${ref.resource} "${ref.name}": the object has been modified; please apply your changes to the latest version and try again`,
          ref,
        );
      }
    }
  }

  watch(resource: string, options: WatchOptions = {}): Watch {
    const outer = new DeferredWatch((w) => this.forget(resource, w));
    if (this.closed) {
      outer.stop();
      return outer;
    }
    this.starting.add(outer);
    this.startWatch(resource, options, outer)
      .catch((error: unknown) => {
        if (this.closed) outer.stop();
        else {
          outer.fail(
            error instanceof StorageError ? error : new StorageError('Unavailable', `watch failed: ${String(error)}`),
          );
        }
      })
      .finally(() => this.starting.delete(outer));
    return outer;
  }

  async currentResourceVersion(): Promise<string> {
    this.assertOpen();
    return String(await this.currentRevision());
  }

  /** True while etcd answers within a second; /readyz reports it. */
  async ready(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.currentRevision(READY_TIMEOUT_MS);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compactor?.stop();
    for (const watch of this.starting) watch.stop();
    this.starting.clear();
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
    this.client.close();
  }

  /** The oldest revision a watch or an exact list can still start from, as far as this replica knows. */
  oldestResourceVersion(): string {
    return String(this.compactedAt);
  }

  /** Compacts etcd's history up to `revision` (older revisions then answer Expired). */
  async compact(revision: number): Promise<void> {
    this.assertOpen();
    try {
      await this.call(() => this.client.kv.compact({ revision, physical: false }));
    } catch (error) {
      if (!isCompacted(error)) throw error; // another replica compacted further already
    }
    if (revision > this.compactedAt) this.compactedAt = revision;
  }

  private async startWatch(resource: string, options: WatchOptions, outer: DeferredWatch): Promise<void> {
    const window = await this.window();
    const start = resolveWatchStart(options.resourceVersion, options.sendInitialEvents, window);
    const namespace = options.namespace || undefined;
    if (start.kind === 'replay') {
      // Is the revision still in etcd's history? (A read at it fails once it has been compacted.)
      try {
        await this.range({ key: this.rootKey, revision: start.after, count_only: true });
      } catch (error) {
        if (!isCompacted(error)) throw error;
        const oldest = await this.discoverCompacted(start.after);
        throw expired(`too old resource version: ${start.after} (${oldest - 1})`, start.after, {
          current: window.current,
          compacted: oldest - 1,
        });
      }
      this.join(resource, namespace, options, outer, start.after, []);
      return;
    }
    const prefix = resourcePrefix(this.rootKey, resource);
    const range = namespace === undefined ? undefined : namespaceRange(namespace);
    const { kvs, rv } = await this.rangeAll(
      range ? Buffer.concat([prefix, Buffer.from(range.from, 'utf8')]) : prefix,
      range ? Buffer.concat([prefix, Buffer.from(range.to, 'utf8')]) : prefixEnd(prefix),
    );
    const events: WatchEvent[] = kvs.map((kv) => {
      const object = deepFreeze(decode(kv.value, Number(kv.mod_revision)));
      return { type: 'ADDED', object, resourceVersion: kv.mod_revision };
    });
    if (start.kind === 'initial-events') events.push(bookmarkEvent(rv, true));
    this.join(resource, namespace, options, outer, rv, events);
  }

  /** Synchronously: joins the shared stream (rewinding it if needed) so that every event after `after` follows. */
  private join(
    resource: string,
    namespace: string | undefined,
    options: WatchOptions,
    outer: DeferredWatch,
    after: number,
    initial: WatchEvent[],
  ): void {
    if (!outer.pending) return;
    if (this.closed) {
      outer.stop();
      return;
    }
    let stream = this.streams.get(resource);
    if (!stream) {
      const prefix = resourcePrefix(this.rootKey, resource);
      stream = new ResourceStream(
        {
          client: this.client,
          resource,
          keyPrefix: prefix,
          keyEnd: prefixEnd(prefix),
          decode,
          onBroken: (broken, resumeAfter, cause) => void this.breakStream(broken, resumeAfter, cause),
        },
        after,
      );
      this.streams.set(resource, stream);
    } else if (after < stream.delivered) {
      stream.restart(after);
    }
    const watcher = stream.hub.subscribe(resource, { namespace, maxQueuedEvents: options.maxQueuedEvents });
    watcher.setInitial(initial);
    watcher.startLive(after);
    if (!outer.attach(watcher)) return;
    stream.watches.add(outer);
    const interval = options.bookmarkIntervalMs;
    if (interval && interval > 0) this.startBookmarksWhenCaughtUp(resource, stream, outer, watcher, interval);
  }

  /**
   * The hub bookmarks an idle watcher at the revision its stream has delivered. Until the stream has delivered this
   * replica's own acknowledged writes of the resource, "idle" only means "the event is still on its way from etcd",
   * so the first bookmark waits for that (then no bookmark is older than a write the client already saw succeed).
   */
  private startBookmarksWhenCaughtUp(
    resource: string,
    stream: ResourceStream,
    outer: DeferredWatch,
    watcher: HubWatcher,
    intervalMs: number,
  ): void {
    const timer = setInterval(() => {
      if (!stream.watches.has(outer) || this.closed) {
        clearInterval(timer);
        return;
      }
      const writes = this.writes.get(resource);
      if (writes && (writes.inFlight > 0 || stream.delivered < writes.latest)) return;
      clearInterval(timer);
      watcher.startBookmarks(intervalMs);
    }, intervalMs);
    timer.unref();
  }

  /** Runs one write of `resource`, remembering it for startBookmarksWhenCaughtUp. */
  private async writing<T extends { header: { revision: string } }>(resource: string, write: () => Promise<T>): Promise<T> {
    let entry = this.writes.get(resource);
    if (!entry) this.writes.set(resource, (entry = { inFlight: 0, latest: 0 }));
    entry.inFlight++;
    try {
      const res = await this.call(write);
      entry.latest = Math.max(entry.latest, Number(res.header.revision));
      return res;
    } finally {
      entry.inFlight--;
    }
  }

  /**
   * The shared etcd watch was cancelled — etcd compacted past where it has to resume (a long disconnect, usually):
   * its watchers end with Expired and re-list, as upstream's do. Any other cancellation ends them with Unavailable
   * (they re-watch from their last resourceVersion, nothing is skipped either way).
   */
  private async breakStream(stream: ResourceStream, resumeAfter: number, cause: Error): Promise<void> {
    if (this.streams.get(stream.resource) === stream) this.streams.delete(stream.resource);
    let error = new StorageError('Unavailable', `etcd watch ended: ${cause.message}`);
    try {
      await this.range({ key: this.rootKey, revision: resumeAfter, count_only: true });
    } catch (readError) {
      if (isCompacted(readError)) {
        try {
          const oldest = await this.discoverCompacted(resumeAfter);
          error = expired(`too old resource version: ${resumeAfter} (${oldest - 1})`, resumeAfter, {
            current: resumeAfter,
            compacted: oldest - 1,
          });
        } catch {
          // etcd went away again: Unavailable it is
        }
      }
    }
    for (const watch of [...stream.watches]) watch.fail(error);
    stream.close();
  }

  private forget(resource: string, watch: DeferredWatch): void {
    const stream = this.streams.get(resource);
    if (!stream) return;
    stream.watches.delete(watch);
    if (stream.watches.size === 0 && stream.hub.watcherCount() === 0) {
      stream.close();
      this.streams.delete(resource);
    }
  }

  /**
   * The oldest revision etcd can still read, at least `atLeastAbove + 1`… found by bisection over reads (etcd tells
   * that a revision is compacted, not which one is the oldest; this runs only on the rare Expired path).
   */
  private async discoverCompacted(knownGone: number): Promise<number> {
    let lo = Math.max(knownGone, this.compactedAt - 1); // unreadable (or the last known compaction - 1)
    let hi = await this.currentRevision(); // readable
    if (lo >= hi) return hi;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      try {
        await this.range({ key: this.rootKey, revision: mid, count_only: true });
        hi = mid;
      } catch (error) {
        if (!isCompacted(error)) throw error;
        lo = mid;
      }
    }
    if (hi > this.compactedAt) this.compactedAt = hi;
    return hi;
  }

  private async compactIfDue(revision: number): Promise<void> {
    if (this.keepRevisions === undefined) return;
    const target = revision - this.keepRevisions;
    if (target - this.compactedAt <= this.compactSlack) return;
    // One compaction at a time; writers that find one running do not wait for another.
    if (!this.compacting) {
      this.compacting = this.compact(target).finally(() => (this.compacting = undefined));
    }
    await this.compacting.catch(() => undefined);
  }

  private async window(): Promise<Window> {
    return { current: await this.currentRevision(), compacted: Math.max(0, this.compactedAt - 1) };
  }

  private async currentRevision(timeoutMs?: number): Promise<number> {
    const res = await this.call(() =>
      this.client.kv.range(
        { key: this.rootKey, count_only: true },
        timeoutMs === undefined ? undefined : { deadline: Date.now() + timeoutMs },
      ),
    );
    return Number(res.header.revision);
  }

  /** Every key in [from, end) at one revision (the latest), read in pages. */
  private async rangeAll(from: Buffer, end: Buffer): Promise<{ kvs: IKeyValue[]; rv: number }> {
    const kvs: IKeyValue[] = [];
    let rv = 0;
    for (;;) {
      const res = await this.range({ key: from, range_end: end, limit: READ_PAGE, ...(rv ? { revision: rv } : {}) });
      if (!rv) rv = Number(res.header.revision);
      kvs.push(...res.kvs);
      if (!res.more || res.kvs.length === 0) return { kvs, rv };
      from = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
    }
  }

  private range(request: IRangeRequest): Promise<IRangeResponse> {
    return this.call(() => this.client.kv.range(request));
  }

  /** Runs one etcd call; transport failures become StorageError Unavailable (the API answers 503). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await fn();
    } catch (error) {
      if (isCompacted(error) || isFutureRevision(error)) throw error;
      throw new StorageError('Unavailable', `etcd request failed: ${(error as Error).message ?? String(error)}`);
    }
  }

  private keyOf(resource: string, namespace: string | undefined, name: string): Buffer {
    return Buffer.concat([resourcePrefix(this.rootKey, resource), Buffer.from(objectKey(namespace, name), 'utf8')]);
  }

  private objectKeyOf(ref: ObjectRef): Buffer {
    assertKeyPart('name', ref.name);
    if (ref.namespace) assertKeyPart('namespace', ref.namespace);
    return this.keyOf(ref.resource, ref.namespace, ref.name);
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('Unavailable', 'the store is closed');
  }
}

function resourcePrefix(root: Buffer, resource: string): Buffer {
  return Buffer.concat([root, Buffer.from(`${resource}/`, 'utf8')]);
}

/** The smallest key after every key starting with `prefix` (etcd's "prefix + 1"). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** The stored value: the object without metadata.resourceVersion (etcd's mod revision is the version). */
function encode(obj: StoredObject): Buffer {
  const { resourceVersion: _resourceVersion, ...metadata } = obj.metadata;
  return Buffer.from(JSON.stringify({ ...obj, metadata }), 'utf8');
}

function decode(value: Buffer, revision: number): StoredObject {
  const obj = JSON.parse(value.toString('utf8')) as StoredObject;
  obj.metadata = { ...obj.metadata, resourceVersion: String(revision) };
  return obj;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isCompacted(error: unknown): boolean {
  return errorMessage(error).includes('required revision has been compacted');
}

function isFutureRevision(error: unknown): boolean {
  return errorMessage(error).includes('required revision is a future revision');
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

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** Doubling delays from `initialMs` up to `maxMs` (the shape the etcd3 client's watch manager calls). */
function backoff(initialMs: number, maxMs: number): WatchBackoff {
  const at = (duration: number): WatchBackoff => ({
    duration,
    next: () => at(Math.min(maxMs, duration * 2)),
  });
  return at(initialMs);
}
