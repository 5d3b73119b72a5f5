// One etcd watch per resource prefix, shared by every watcher of that resource through a WatchHub.
//
// Resuming: the etcd3 client re-creates a watch after a disconnect from `header.revision + 1` of the last response it
// saw, but etcd answers a catching-up watch with the *current* revision in the header, so a disconnect during catch-up
// would skip events. We therefore set the resume point ourselves on every disconnect: one past the last revision this
// stream published (or one etcd confirmed by a progress notification).
//
// Rewinding: a new watcher that needs events older than what the shared watch has delivered restarts the etcd watch
// from its revision; watchers already live drop the repeated events (the hub dedupes by revision per watcher).
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { StoredObject, WatchEvent } from './store.js';
import { WatchHub } from './watch-hub.js';
import { deepFreeze } from './deep-freeze.js';
import type { DeferredWatch } from './etcd-deferred-watch.js';

export interface ResourceStreamDeps {
  client: Etcd3;
  resource: string;
  /** `<prefix>/<resource>/` as bytes: keys below it are `<namespace>/<name>` or `<name>`. */
  keyPrefix: Buffer;
  /** The end of the prefix range (exclusive). */
  keyEnd: Buffer;
  decode: (value: Buffer, revision: number) => StoredObject;
  /** The etcd watch was cancelled (e.g. compacted past `resumeAfter`); every watcher must be ended. */
  onBroken: (stream: ResourceStream, resumeAfter: number, cause: Error) => void;
}

export class ResourceStream {
  readonly hub: WatchHub;
  readonly watches = new Set<DeferredWatch>();
  /** Every event of this resource up to this revision has been published by the current etcd watch. */
  delivered: number;
  private watcher: Watcher | undefined;
  private closed = false;

  constructor(
    private readonly deps: ResourceStreamDeps,
    after: number,
  ) {
    this.delivered = after;
    this.hub = new WatchHub(() => this.delivered);
    this.restart(after);
  }

  /** (Re)starts the etcd watch so that it delivers every event after `after`. */
  restart(after: number): void {
    if (this.closed) return;
    const previous = this.watcher;
    this.delivered = after;
    const watcher = this.deps.client
      .watch()
      .inRange({ start: this.deps.keyPrefix, end: this.deps.keyEnd })
      .withPreviousKV()
      .startRevision(String(after + 1))
      .watcher();
    this.watcher = watcher;
    watcher.on('data', (res) => {
      if (this.watcher === watcher) this.onData(res);
    });
    watcher.on('disconnected', () => {
      if (this.watcher !== watcher) return;
      // See the header comment: resume strictly after what was published, never from etcd's header revision.
      watcher.request.start_revision = String(this.delivered + 1);
    });
    watcher.on('error', (error) => {
      if (this.watcher !== watcher || this.closed) return;
      this.deps.onBroken(this, this.delivered, error);
    });
    if (previous) void previous.cancel().catch(() => undefined);
  }

  get resource(): string {
    return this.deps.resource;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const watcher = this.watcher;
    this.watcher = undefined;
    this.hub.closeAll();
    if (watcher) void watcher.cancel().catch(() => undefined);
  }

  private onData(res: IWatchResponse): void {
    if (res.events.length === 0) {
      // A progress notification: etcd sends them only to watchers that have caught up, so everything up to the
      // header revision has been delivered.
      const revision = Number(res.header.revision);
      if (revision > this.delivered) this.delivered = revision;
      return;
    }
    for (const event of res.events) {
      const rv = Number(event.kv.mod_revision);
      if (rv <= this.delivered) continue; // repeated after a reconnect
      this.delivered = rv;
      const relative = event.kv.key.subarray(this.deps.keyPrefix.length).toString('utf8');
      const slash = relative.indexOf('/');
      const namespace = slash < 0 ? '' : relative.slice(0, slash);
      this.hub.publish(this.deps.resource, namespace, rv, () => this.toEvent(event.type, event.kv, event.prev_kv, rv, relative));
    }
  }

  private toEvent(type: 'Put' | 'Delete', kv: IKeyValue, prev: IKeyValue | undefined, rv: number, relative: string) {
    const prevObject = prev && prev.value.length > 0 ? this.deps.decode(prev.value, Number(prev.mod_revision)) : undefined;
    let event: WatchEvent;
    if (type === 'Delete') {
      // The last state with the deletion's revision, as upstream's etcd3 watcher builds DELETED events.
      const object: StoredObject = prevObject
        ? { ...structuredClone(prevObject), metadata: { ...prevObject.metadata, resourceVersion: String(rv) } }
        : { metadata: objectMetaFromKey(relative, rv) };
      event = { type: 'DELETED', object, resourceVersion: String(rv) };
      if (prevObject) event.prevObject = prevObject;
    } else {
      const object = this.deps.decode(kv.value, rv);
      const added = kv.create_revision === kv.mod_revision;
      event = { type: added ? 'ADDED' : 'MODIFIED', object, resourceVersion: String(rv) };
      if (!added && prevObject) event.prevObject = prevObject;
    }
    return deepFreeze(event);
  }
}

/** When etcd no longer has the previous value (compacted), the key still says which object was deleted. */
function objectMetaFromKey(relative: string, rv: number): StoredObject['metadata'] {
  const slash = relative.indexOf('/');
  return slash < 0
    ? { name: relative, resourceVersion: String(rv) }
    : { name: relative.slice(slash + 1), namespace: relative.slice(0, slash), resourceVersion: String(rv) };
}
