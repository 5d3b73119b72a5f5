// The versioned object store that the API machinery and the worker stand on.
// It is deliberately generic: it stores JSON objects that carry Kubernetes-style `metadata`, keyed by an opaque
// resource string (e.g. "example.com/widgets") + namespace + name, and knows nothing of any particular API.
//
// Semantics follow k8s.io/apiserver's storage.Interface (staging/src/k8s.io/apiserver/pkg/storage/interfaces.go):
// - resourceVersion is store-wide and strictly increasing, rendered as a decimal string; clients treat it as opaque;
// - create/update/delete each write exactly one new resourceVersion into `metadata.resourceVersion`;
// - a list is a consistent read at the resourceVersion it returns;
// - a watch from resourceVersion R delivers every change with RV > R exactly once, in order.
//
// Ownership: objects returned by get/list/create/update/guaranteedUpdate/delete are fresh copies the caller may
// mutate. Watch events (object and prevObject) are deep-frozen and shared by every watcher of the resource: clone
// one (structuredClone) before changing it. Conformance: test/storage/conformance.ts.

export interface StoredMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  [key: string]: unknown;
}

export interface StoredObject {
  metadata: StoredMeta;
  [key: string]: unknown;
}

export interface ObjectRef {
  resource: string;
  /** Empty string or undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

export interface ListOptions {
  /** Restrict to one namespace; undefined lists across all namespaces. */
  namespace?: string;
  /** Page size; 0/undefined = everything. */
  limit?: number;
  /** Opaque token from a previous page's `continue`. */
  continue?: string;
  /**
   * Kubernetes list semantics: undefined/"" = most recent (consistent read); "0" = any (we still serve the latest);
   * otherwise an exact or minimum revision depending on `resourceVersionMatch`.
   */
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  /** Optional server-side filter applied before paging (so `limit` counts matching objects, as upstream does). */
  predicate?: (obj: StoredObject) => boolean;
}

export interface ListResult {
  items: StoredObject[];
  /** The store revision this list is a consistent read at. */
  resourceVersion: string;
  /** Token for the next page, absent on the last page. */
  continue?: string;
  remainingItemCount?: number;
}

export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent {
  type: WatchEventType;
  /** For DELETED: the last state of the object, with the deletion's resourceVersion. For BOOKMARK: {metadata:{resourceVersion}}. */
  object: StoredObject;
  /** For MODIFIED and DELETED: the state before the change (lets filtered watches turn MODIFIED into ADDED/DELETED). */
  prevObject?: StoredObject;
  resourceVersion: string;
  /**
   * Set on the BOOKMARK that ends the initial events of a watch with `sendInitialEvents`; its object then also carries
   * the annotation `k8s.io/initial-events-end: "true"`, as upstream's does.
   */
  initialEventsEnd?: boolean;
}

export interface WatchOptions {
  namespace?: string;
  /**
   * undefined/"" or "0": start with the current state as ADDED events, then live events.
   * "N": every change after revision N (older than the kept history → StorageError Expired).
   */
  resourceVersion?: string;
  /** Watch-list: current state (as of at least `resourceVersion`) as ADDED, then a BOOKMARK with initialEventsEnd. */
  sendInitialEvents?: boolean;
  /** Emit a BOOKMARK carrying the current revision this often (0/undefined = never). */
  bookmarkIntervalMs?: number;
  /** Per-watcher queue bound; a watcher further behind than this is ended with a StorageError `TooSlow`. */
  maxQueuedEvents?: number;
}

/**
 * A running watch. Iterate it to receive events; iteration ends when `stop()` is called or the store closes, and
 * throws a StorageError (e.g. Expired, TooSlow) when the watch cannot continue.
 * `watch()` itself never throws a StorageError: a bad start (InvalidResourceVersion, TooLargeResourceVersion,
 * Expired) rejects the first `next()` at once, before any event.
 */
export interface Watch extends AsyncIterable<WatchEvent> {
  stop(): void;
}

export type StorageErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict' // resourceVersion compare-and-swap failed (details {expected, actual})
  | 'PreconditionFailed' // delete preconditions did not match (details {field: 'UID'|'ResourceVersion', expected, actual})
  | 'Expired' // resourceVersion or continue token older than the kept history (details {requested, oldest};
  //             upstream's watch message prints `too old resource version: <requested> (<oldest - 1>)`)
  | 'TooLargeResourceVersion' // a resourceVersion newer than the store has reached (details {requested, current})
  | 'InvalidContinue' // a malformed continue token
  | 'InvalidResourceVersion' // a resourceVersion that is not a decimal integer
  | 'TooSlow' // a watcher could not keep up and was dropped
  | 'Unavailable'; // the backend cannot be reached (etcd down, disk full…)

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly ref?: Partial<ObjectRef>,
    /** For Conflict/PreconditionFailed/Expired: the details a caller may need for its message. */
    readonly details: Record<string, string | undefined> = {},
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

export interface Store {
  /** Resolves undefined when absent. */
  get(ref: ObjectRef): Promise<StoredObject | undefined>;
  list(resource: string, options?: ListOptions): Promise<ListResult>;
  /** Throws StorageError AlreadyExists. Returns the stored object with its new resourceVersion. */
  create(resource: string, obj: StoredObject): Promise<StoredObject>;
  /**
   * Compare-and-swap: succeeds only if the stored object's resourceVersion equals `obj.metadata.resourceVersion`.
   * Throws StorageError NotFound or Conflict. Content identical to the stored object writes nothing: the stored
   * object comes back with its unchanged resourceVersion and no watch event (as upstream's GuaranteedUpdate).
   */
  update(resource: string, obj: StoredObject): Promise<StoredObject>;
  /**
   * Read-modify-write, retried on Conflict: `mutate` gets the current object (undefined if absent) and returns the
   * new one (its resourceVersion is ignored), or `undefined` to leave it unchanged. Throws NotFound when absent and
   * `mutate` returns nothing. Calls for one key within a process run one after another (no self-inflicted
   * conflicts); conflicts with other writers are retried a bounded number of times (then Conflict is thrown).
   */
  guaranteedUpdate(
    ref: ObjectRef,
    mutate: (current: StoredObject | undefined) => StoredObject | undefined | Promise<StoredObject | undefined>,
  ): Promise<StoredObject>;
  /** Throws NotFound or PreconditionFailed. Returns the deleted object carrying the deletion's resourceVersion. */
  delete(ref: ObjectRef, preconditions?: DeletePreconditions): Promise<StoredObject>;
  watch(resource: string, options?: WatchOptions): Watch;
  /** The latest revision the store has reached. */
  currentResourceVersion(): Promise<string>;
  /** Resolves when the store can serve (used by /readyz). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
