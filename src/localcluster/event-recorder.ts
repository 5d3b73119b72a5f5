// core/v1 Events written through the Registry, the way client-go's record.EventRecorder writes them: name
// `<object>.<hex nanoseconds>`, the object's namespace (`default` for cluster-scoped objects), count 1, and repeats
// of the same event on the same object folded into one by bumping count and lastTimestamp (the EventCorrelator).

import type { Registry } from '../apimachinery/registry.js';
import type { KubeObject } from '../apimachinery/resource-definition.js';
import { StatusError } from '../apimachinery/status-error.js';
import { EVENTS } from './definitions.js';

export interface LocalClusterLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface RecordedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface EventRecorderOptions {
  component: string;
  clock?: () => Date;
  log?: LocalClusterLogger;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class EventRecorder {
  private readonly clock: () => Date;
  /** Correlation key → the event's name and namespace, for folding repeats. */
  private readonly seen = new Map<string, { namespace: string; name: string }>();
  private seq = 0n;

  constructor(
    private readonly registry: Registry,
    private readonly options: EventRecorderOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** Records `event` about `obj` (whose apiVersion and kind must be set); failures are logged, never thrown. */
  async record(obj: KubeObject, event: RecordedEvent): Promise<void> {
    try {
      await this.write(obj, event);
    } catch (err) {
      this.options.log?.warn({ err: (err as Error).message, reason: event.reason, object: obj.metadata.name }, 'could not record event');
    }
  }

  private async write(obj: KubeObject, event: RecordedEvent): Promise<void> {
    const namespace = obj.metadata.namespace || 'default';
    const key = [obj.metadata.uid, obj.kind, namespace, obj.metadata.name, event.type, event.reason, event.message].join('\u0000');
    const now = this.clock();
    const prior = this.seen.get(key);
    if (prior) {
      try {
        const existing = await this.registry.get(EVENTS, prior);
        const next = structuredClone(existing) as KubeObject & { count?: number; lastTimestamp?: string };
        next.count = (Number(next.count) || 1) + 1;
        next.lastTimestamp = rfc3339(now);
        await this.registry.update(EVENTS, next, prior);
        return;
      } catch (err) {
        if (!(err instanceof StatusError) || (err.reason !== 'NotFound' && err.reason !== 'Conflict')) throw err;
        this.seen.delete(key);
      }
    }
    const nanos = BigInt(now.getTime()) * 1_000_000n + (this.seq++ % 1_000_000n);
    const involvedObject: Record<string, string> = {
      kind: String(obj.kind ?? ''),
      name: obj.metadata.name,
      uid: String(obj.metadata.uid ?? ''),
      apiVersion: String(obj.apiVersion ?? ''),
      resourceVersion: String(obj.metadata.resourceVersion ?? ''),
    };
    if (obj.metadata.namespace) involvedObject.namespace = obj.metadata.namespace;
    const created = await this.registry.create(
      EVENTS,
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${obj.metadata.name}.${nanos.toString(16)}`, namespace },
        involvedObject,
        reason: event.reason,
        message: event.message,
        source: { component: this.options.component },
        firstTimestamp: rfc3339(now),
        lastTimestamp: rfc3339(now),
        count: 1,
        type: event.type,
        eventTime: null,
        reportingComponent: this.options.component,
        reportingInstance: '',
      },
      { namespace },
    );
    this.seen.set(key, { namespace, name: created.metadata.name });
    if (this.seen.size > 10_000) this.seen.delete(this.seen.keys().next().value as string);
  }
}
