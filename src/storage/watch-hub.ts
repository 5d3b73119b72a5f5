// Watch fan-out: one shared stream of events per resource, many watchers, each with its own bounded queue.
// Like upstream's cacher (k8s.io/apiserver/pkg/storage/cacher/cacher.go), a watcher that falls too far behind is
// ended (here with StorageError TooSlow) instead of letting its queue grow without bound; the client re-watches
// from the last resourceVersion it saw, or re-lists.
//
// A watcher is born "buffering": live events published while the backend reads its initial state or history are
// held back, then `startLive(afterRv)` appends those with a revision above what the initial events covered — so a
// watch misses nothing and repeats nothing even if the backend reads asynchronously (etcd).
import { StorageError, type Watch, type WatchEvent, type StoredObject } from './store.js';

export const DEFAULT_MAX_QUEUED_EVENTS = 10_000;

export interface SubscribeOptions {
  /** Only events of this namespace; undefined or '' = all. */
  namespace?: string;
  maxQueuedEvents?: number;
  bookmarkIntervalMs?: number;
}

interface ResourceWatchers {
  all: Set<HubWatcher>;
  byNamespace: Map<string, Set<HubWatcher>>;
}

export class WatchHub {
  private readonly resources = new Map<string, ResourceWatchers>();
  private closed = false;

  /** @param currentRv the latest revision every event up to which has been published (for bookmarks). */
  constructor(private readonly currentRv: () => number) {}

  subscribe(resource: string, options: SubscribeOptions = {}): HubWatcher {
    const namespace = options.namespace || undefined;
    const watcher = new HubWatcher(
      options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS,
      this.currentRv,
      () => this.unsubscribe(resource, namespace, watcher),
    );
    if (this.closed) {
      watcher.end();
      return watcher;
    }
    let entry = this.resources.get(resource);
    if (!entry) {
      entry = { all: new Set(), byNamespace: new Map() };
      this.resources.set(resource, entry);
    }
    if (namespace === undefined) entry.all.add(watcher);
    else {
      let set = entry.byNamespace.get(namespace);
      if (!set) entry.byNamespace.set(namespace, (set = new Set()));
      set.add(watcher);
    }
    if (options.bookmarkIntervalMs && options.bookmarkIntervalMs > 0) watcher.startBookmarks(options.bookmarkIntervalMs);
    return watcher;
  }

  hasWatchers(resource: string, namespace: string): boolean {
    const entry = this.resources.get(resource);
    return !!entry && (entry.all.size > 0 || (entry.byNamespace.get(namespace)?.size ?? 0) > 0);
  }

  /**
   * Deliver one committed change. Call in revision order. `makeEvent` runs at most once, only when someone
   * listens, and its result is shared by all watchers (so it should be frozen).
   */
  publish(resource: string, namespace: string, rv: number, makeEvent: () => WatchEvent): void {
    const entry = this.resources.get(resource);
    if (!entry) return;
    const scoped = entry.byNamespace.get(namespace);
    if (entry.all.size === 0 && !scoped?.size) return;
    const event = makeEvent();
    for (const watcher of entry.all) watcher.offer(event, rv);
    if (scoped) for (const watcher of scoped) watcher.offer(event, rv);
  }

  watcherCount(): number {
    let n = 0;
    for (const entry of this.resources.values()) {
      n += entry.all.size;
      for (const set of entry.byNamespace.values()) n += set.size;
    }
    return n;
  }

  /** Ends every watch cleanly (iteration finishes without error); later subscriptions end at once. */
  closeAll(): void {
    this.closed = true;
    const all: HubWatcher[] = [];
    for (const entry of this.resources.values()) {
      all.push(...entry.all);
      for (const set of entry.byNamespace.values()) all.push(...set);
    }
    for (const watcher of all) watcher.end();
    this.resources.clear();
  }

  private unsubscribe(resource: string, namespace: string | undefined, watcher: HubWatcher): void {
    const entry = this.resources.get(resource);
    if (!entry) return;
    if (namespace === undefined) entry.all.delete(watcher);
    else {
      const set = entry.byNamespace.get(namespace);
      set?.delete(watcher);
      if (set && set.size === 0) entry.byNamespace.delete(namespace);
    }
    if (entry.all.size === 0 && entry.byNamespace.size === 0) this.resources.delete(resource);
  }
}

type State = 'open' | 'ended' | 'failed';

export class HubWatcher implements Watch {
  private initial: WatchEvent[] = [];
  private initialIndex = 0;
  private queue: WatchEvent[] = [];
  private queueHead = 0;
  private buffered: { event: WatchEvent; rv: number }[] | undefined = [];
  /** Highest revision handed to the queue; live events at or below it are duplicates. */
  private lastRv = 0;
  private state: State = 'open';
  private error: StorageError | undefined;
  private waiter: ((result: IteratorResult<WatchEvent>) => void) | undefined;
  private failWaiter: ((error: unknown) => void) | undefined;
  private bookmarkTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxQueued: number,
    private readonly currentRv: () => number,
    private readonly detach: () => void,
  ) {}

  /** Events delivered before any live event (initial state, history replay, the initial-events-end bookmark). */
  setInitial(events: WatchEvent[]): void {
    if (this.state !== 'open') return;
    this.initial = events;
    this.initialIndex = 0;
  }

  /** Ends buffering: live events above `afterRv` follow the initial events, in order, without duplicates. */
  startLive(afterRv: number): void {
    if (this.state !== 'open') return;
    const held = this.buffered ?? [];
    this.buffered = undefined;
    this.lastRv = afterRv;
    for (const { event, rv } of held) this.offer(event, rv);
    this.wake();
  }

  offer(event: WatchEvent, rv: number): void {
    if (this.state !== 'open') return;
    if (this.buffered) {
      this.buffered.push({ event, rv });
      if (this.buffered.length > this.maxQueued) this.tooSlow();
      return;
    }
    if (rv <= this.lastRv) return;
    this.lastRv = rv;
    this.queue.push(event);
    if (this.queue.length - this.queueHead > this.maxQueued) {
      this.tooSlow();
      return;
    }
    this.wake();
  }

  /** Ends the watch with an error: queued events are dropped (freeing memory) and the next `next()` throws. */
  fail(error: StorageError): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.error = error;
    this.release();
    const reject = this.failWaiter;
    this.waiter = this.failWaiter = undefined;
    if (reject) {
      this.error = undefined;
      reject(error);
    }
  }

  /** Ends the watch cleanly: iteration finishes after nothing more (pending events are dropped). */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ended';
    this.release();
    const resolve = this.waiter;
    this.waiter = this.failWaiter = undefined;
    resolve?.({ done: true, value: undefined });
  }

  stop(): void {
    this.end();
  }

  startBookmarks(intervalMs: number): void {
    this.bookmarkTimer = setInterval(() => this.bookmark(), intervalMs);
    this.bookmarkTimer.unref(); // a quiet watch must not keep the process alive
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => this.next(),
      return: async () => {
        this.stop();
        return { done: true, value: undefined };
      },
    };
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    const taken = this.take();
    if (taken) return Promise.resolve(taken);
    if (this.state === 'failed') {
      const error = this.error;
      this.error = undefined;
      return error ? Promise.reject(error) : Promise.resolve({ done: true, value: undefined });
    }
    if (this.state === 'ended') return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = reject;
    });
  }

  private take(): IteratorResult<WatchEvent> | undefined {
    if (this.state === 'failed') return undefined;
    if (this.initialIndex < this.initial.length) {
      const value = this.initial[this.initialIndex++];
      if (this.initialIndex === this.initial.length) {
        this.initial = [];
        this.initialIndex = 0;
      }
      return { done: false, value };
    }
    if (this.queueHead < this.queue.length) {
      const value = this.queue[this.queueHead++];
      if (this.queueHead === this.queue.length) {
        this.queue = [];
        this.queueHead = 0;
      } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      return { done: false, value };
    }
    return undefined;
  }

  private bookmark(): void {
    // Only a live, idle watcher gets one: a bookmark behind queued events would tell nothing new.
    if (this.state !== 'open' || this.buffered || this.queueHead < this.queue.length) return;
    if (this.initialIndex < this.initial.length) return;
    const rv = Math.max(this.currentRv(), this.lastRv);
    this.lastRv = rv;
    this.queue.push(bookmarkEvent(rv, false));
    this.wake();
  }

  private wake(): void {
    if (!this.waiter) return;
    const taken = this.take();
    if (!taken) return;
    const resolve = this.waiter;
    this.waiter = this.failWaiter = undefined;
    resolve(taken);
  }

  private tooSlow(): void {
    this.fail(
      new StorageError('TooSlow', `watcher fell more than ${this.maxQueued} events behind and was dropped; re-watch or re-list`),
    );
  }

  private release(): void {
    this.initial = [];
    this.queue = [];
    this.queueHead = 0;
    this.buffered = undefined;
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.bookmarkTimer = undefined;
    this.detach();
  }
}

export function bookmarkEvent(rv: number, initialEventsEnd: boolean): WatchEvent {
  const object: StoredObject = { metadata: { name: '', resourceVersion: String(rv) } };
  // Upstream marks the end of initial events on the bookmark object itself
  // (k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go, metav1.InitialEventsAnnotationKey).
  if (initialEventsEnd) object.metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  return initialEventsEnd
    ? { type: 'BOOKMARK', object, resourceVersion: String(rv), initialEventsEnd: true }
    : { type: 'BOOKMARK', object, resourceVersion: String(rv) };
}
