// The worker's Prometheus metrics, registered on a Registry the caller passes (never prom-client's global one).
// Names follow the CSI snapshot controller (external-snapshotter pkg/metrics/metrics.go) where it has one.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CloudProvider } from '../cloud/index.js';
import { isCloudError } from '../cloud/index.js';

export type OperationName = 'CreateSnapshot' | 'CreateSnapshotAndReady' | 'DeleteSnapshot' | 'RestoreVolume' | 'DeleteVolume';
export type OperationStatus = 'success' | 'failure' | 'cancel';

export interface WorkerMetrics {
  operationSeconds: Histogram<'operation_name' | 'operation_status' | 'provider'>;
  operationsInFlight: Gauge<'operation_name'>;
  queueDepth: Gauge;
  queueRetries: Counter<'reason'>;
  cloudCalls: Counter<'provider' | 'operation' | 'code'>;
  leader: Gauge;
}

// external-snapshotter: metricBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300, 600}
const BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300, 600];

export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const registers = [registry];
  return {
    operationSeconds: new Histogram({
      name: 'snapshot_controller_operation_total_seconds',
      help: 'Total number of seconds spent by the controller on an operation, from its start to its end.',
      labelNames: ['operation_name', 'operation_status', 'provider'],
      buckets: BUCKETS,
      registers,
    }),
    operationsInFlight: new Gauge({
      name: 'snapshot_controller_operations_in_flight',
      help: 'Number of operations started and not finished yet.',
      labelNames: ['operation_name'],
      registers,
    }),
    queueDepth: new Gauge({ name: 'snapshot_controller_queue_depth', help: 'Keys waiting in the work queue.', registers }),
    queueRetries: new Counter({
      name: 'snapshot_controller_queue_retries_total',
      help: 'Keys requeued with backoff, by reason (error: a failed attempt; poll: waiting for the cloud).',
      labelNames: ['reason'],
      registers,
    }),
    cloudCalls: new Counter({
      name: 'snapshot_controller_cloud_calls_total',
      help: 'Calls to the cloud provider by operation and result code (OK, or the cloud error code).',
      labelNames: ['provider', 'operation', 'code'],
      registers,
    }),
    leader: new Gauge({ name: 'snapshot_controller_leader', help: '1 while this replica runs the worker (leader), else 0.', registers }),
  };
}

/** Tracks operations by key so that one started before a retry is timed from its first start. */
export class OperationTracker {
  private readonly started = new Map<string, number>();
  constructor(
    private readonly metrics: WorkerMetrics | undefined,
    private readonly provider: string,
    private readonly now: () => number,
  ) {}

  start(op: OperationName, key: string): void {
    const k = `${op}/${key}`;
    if (this.started.has(k)) return;
    this.started.set(k, this.now());
    this.metrics?.operationsInFlight.inc({ operation_name: op });
  }

  end(op: OperationName, key: string, status: OperationStatus): void {
    const k = `${op}/${key}`;
    const at = this.started.get(k);
    if (at === undefined) return;
    this.started.delete(k);
    this.metrics?.operationsInFlight.dec({ operation_name: op });
    this.metrics?.operationSeconds.observe({ operation_name: op, operation_status: status, provider: this.provider }, (this.now() - at) / 1000);
  }

  active(op: OperationName, key: string): boolean {
    return this.started.has(`${op}/${key}`);
  }
}

const CLOUD_METHODS = ['createSnapshot', 'findSnapshotByUid', 'getSnapshot', 'deleteSnapshot', 'createVolume', 'getVolume', 'deleteVolume'] as const;

/** The same provider, counting every call by result code. */
export function instrumentCloud(cloud: CloudProvider, metrics: WorkerMetrics | undefined): CloudProvider {
  if (!metrics) return cloud;
  const wrapped = Object.create(cloud) as CloudProvider;
  for (const method of CLOUD_METHODS) {
    const original = cloud[method].bind(cloud) as (...args: unknown[]) => Promise<unknown>;
    (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      try {
        const r = await original(...args);
        metrics.cloudCalls.inc({ provider: cloud.name, operation: method, code: 'OK' });
        return r;
      } catch (err) {
        metrics.cloudCalls.inc({ provider: cloud.name, operation: method, code: isCloudError(err) ? err.code : 'Unknown' });
        throw err;
      }
    };
  }
  return wrapped;
}
