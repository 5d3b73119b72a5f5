// A Watch handed out synchronously whose live part starts later: the etcd backend must ask etcd for the current
// revision (and read the initial state) before it can join the shared stream, and `watch()` may not throw or block.
// Until then `next()` waits; a start failure (Expired, TooLargeResourceVersion, Unavailable…) rejects it.
import type { StorageError, Watch, WatchEvent } from './store.js';
import type { HubWatcher } from './watch-hub.js';

export class DeferredWatch implements Watch {
  private inner: HubWatcher | undefined;
  private error: StorageError | undefined;
  private stopped = false;
  private readonly started: Promise<void>;
  private resolveStarted!: () => void;

  constructor(private readonly onStop: (watch: DeferredWatch) => void = () => undefined) {
    this.started = new Promise((resolve) => (this.resolveStarted = resolve));
  }

  /** Whether a live watcher may still be attached (not stopped, not failed). */
  get pending(): boolean {
    return !this.stopped && !this.error && !this.inner;
  }

  /** Hands over to the live watcher; returns false (and stops it) when the watch was stopped or failed meanwhile. */
  attach(inner: HubWatcher): boolean {
    if (!this.pending) {
      inner.stop();
      return false;
    }
    this.inner = inner;
    this.resolveStarted();
    return true;
  }

  fail(error: StorageError): void {
    if (this.inner) {
      this.inner.fail(error);
      return;
    }
    if (this.stopped || this.error) return;
    this.error = error;
    this.resolveStarted();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.inner?.stop();
    this.resolveStarted();
    this.onStop(this);
  }

  async next(): Promise<IteratorResult<WatchEvent>> {
    if (this.pending) await this.started;
    if (this.inner) return this.inner.next();
    if (this.error) {
      const error = this.error;
      this.error = undefined;
      this.stopped = true;
      this.onStop(this);
      throw error;
    }
    return { done: true, value: undefined };
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
}
