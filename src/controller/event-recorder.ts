// Kubernetes Events in the main cluster about our VolumeSnapshots and the claims we provision, aggregated like
// client-go's EventCorrelator: the same (object, type, reason, message) again bumps `count` and `lastTimestamp`
// of the existing Event instead of writing a new one. Event writes never fail the work that emits them.

import type { ClusterEvent, MainCluster, ObjectRef } from '../cluster/main-cluster.js';
import type { Clock } from './clock.js';

export const COMPONENT = 'volumesnapshot-controller';

export type EventType = 'Normal' | 'Warning';

export interface EventLogger {
  warn(obj: object, msg: string): void;
}

export interface EventRecorderOptions {
  cluster: MainCluster;
  clock: Clock;
  log?: EventLogger;
  component?: string;
  /** Identifies this replica (`reportingInstance`). */
  instance?: string;
  /**
   * Aggregated entries kept (oldest dropped first); default 4096, client-go's maxLruCacheEntries
   * (tools/record/events_cache.go). An entry is the last Event written, about 2.3 KiB with its key, so a busy
   * worker's cache levels off near 9 MiB: it fills by one entry per new (object, reason, message), and stays full.
   */
  cacheSize?: number;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class EventRecorder {
  private readonly cache = new Map<string, ClusterEvent>();
  private readonly options: EventRecorderOptions;
  private chain: Promise<void> = Promise.resolve();
  private seq = 0n;

  constructor(options: EventRecorderOptions) {
    this.options = options;
  }

  /** Records an Event; resolves when it is written (or failed and was logged). */
  record(ref: ObjectRef, type: EventType, reason: string, message: string): Promise<void> {
    // Serialised so that aggregation of concurrent duplicates sees the previous write.
    const p = this.chain.then(() => this.write(ref, type, reason, message));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async write(ref: ObjectRef, type: EventType, reason: string, message: string): Promise<void> {
    const { cluster, clock } = this.options;
    const key = [ref.uid ?? '', ref.namespace ?? '', ref.name ?? '', ref.kind ?? '', type, reason, message].join('\u0000');
    const now = rfc3339(clock.now());
    const previous = this.cache.get(key);
    try {
      if (previous) {
        const next: ClusterEvent = { ...previous, count: (previous.count ?? 1) + 1, lastTimestamp: now };
        try {
          const written = await cluster.replaceEvent(next);
          this.remember(key, written);
          return;
        } catch {
          // Gone or changed meanwhile: start a new Event (as client-go does when its patch fails).
          this.cache.delete(key);
        }
      }
      const namespace = ref.namespace || 'default';
      const event: ClusterEvent = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${ref.name ?? 'object'}.${(BigInt(clock.now()) * 1_000_000n + (this.seq++ % 1_000_000n)).toString(16)}`, namespace },
        involvedObject: { ...ref },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.options.component ?? COMPONENT },
        reportingComponent: this.options.component ?? COMPONENT,
        reportingInstance: this.options.instance ?? '',
      };
      this.remember(key, await cluster.createEvent(event));
    } catch (err) {
      this.options.log?.warn({ err: (err as Error).message, reason, object: `${ref.namespace ?? ''}/${ref.name ?? ''}` }, 'could not write event');
    }
  }

  private remember(key: string, event: ClusterEvent): void {
    this.cache.delete(key);
    this.cache.set(key, event);
    const max = this.options.cacheSize ?? 4096;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
  }
}
