// The embedded worker: snapshotter + promoter on one work queue, fed by a watch on our VolumeSnapshots (through the
// Registry) and informers on the main cluster's PVCs and PVs, with a periodic resync; run on the elected leader
// only when leader election is on. Every replica serves the API whatever happens here.

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Registry as PromRegistry } from 'prom-client';
import type { Registry } from '../apimachinery/registry.js';
import { StatusError } from '../apimachinery/status-error.js';
import type { VolumeSnapshot } from '../apis/volumesnapshot/v1/types.js';
import type { CloudProvider } from '../cloud/index.js';
import type { MainCluster, PersistentVolume, PersistentVolumeClaim, RunningInformer } from '../cluster/main-cluster.js';
import { realClock, type Clock } from './clock.js';
import { EventRecorder } from './event-recorder.js';
import { LeaderElector } from './leader-election.js';
import { OperationTracker, createWorkerMetrics, instrumentCloud, type WorkerMetrics } from './metrics.js';
import { Promoter, restoreInProgress } from './promoter.js';
import { restoreSnapshotName, shouldDeleteReleased } from './restore-rules.js';
import { Snapshotter, VOLUME_SNAPSHOTS } from './snapshotter.js';
import { WorkQueue, type ProcessResult } from './work-queue.js';

export interface WorkerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LeaderElectionSettings {
  namespace: string;
  /** Lease name (default `volumesnapshot-apiserver-worker`). */
  name?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface WorkerOptions {
  registry: Registry;
  cluster: MainCluster;
  cloud: CloudProvider;
  /** Absent: this replica runs the worker unconditionally. */
  leaderElection?: LeaderElectionSettings;
  workerThreads: number;
  resyncPeriodMs: number;
  log: WorkerLogger;
  /** Where the worker's metrics are registered (the server's /metrics registry). */
  metrics?: PromRegistry;
  clock?: Clock;
  /** This replica's identity (lease holder, `snapshotProvisionerIdentity`); default `<hostname>_<uuid>`. */
  identity?: string;
  /** Backoff bounds of the work queue (tests shorten them). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface Worker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once started (as leader: once the first lists have arrived; as a follower: while electing). */
  ready(): boolean;
  isLeader(): boolean;
  /** Resolves when no key is queued or being processed (tests). */
  idle(): Promise<void>;
}

export const DEFAULT_LEASE_NAME = 'volumesnapshot-apiserver-worker';

interface Running {
  queue: WorkQueue;
  run: Promise<void>;
  stopWatch(): void;
  watchLoop: Promise<void>;
  informers: RunningInformer<PersistentVolumeClaim | PersistentVolume>[];
  resync?: ReturnType<Clock['setTimeout']>;
}

export function createWorker(options: WorkerOptions): Worker {
  const clock = options.clock ?? realClock;
  const log = options.log;
  const identity = options.identity ?? `${hostname()}_${randomUUID()}`;
  const metrics: WorkerMetrics | undefined = options.metrics ? createWorkerMetrics(options.metrics) : undefined;
  const cloud = instrumentCloud(options.cloud, metrics);
  const operations = new OperationTracker(metrics, options.cloud.name, () => clock.now());
  const events = new EventRecorder({ cluster: options.cluster, clock, log, instance: identity });
  let claims: RunningInformer<PersistentVolumeClaim> | undefined;
  const snapshotter = new Snapshotter({
    registry: options.registry,
    cluster: options.cluster,
    cloud,
    events,
    clock,
    log,
    operations,
    restoreInProgress: (snap) => restoreInProgress(claims?.list() ?? [], snap),
  });
  const promoter = new Promoter({ registry: options.registry, cluster: options.cluster, cloud, events, log, identity, operations });

  // VolumeSnapshots by the claim they snapshot, so a claim becoming Bound wakes the snapshots waiting for it.
  const byClaim = new Map<string, Set<string>>();
  const index = (snap: VolumeSnapshot, deleted: boolean) => {
    const key = `${snap.metadata.namespace}/${snap.metadata.name}`;
    const claimKey = `${snap.metadata.namespace}/${snap.spec?.persistentVolumeClaimName}`;
    const set = byClaim.get(claimKey) ?? new Set<string>();
    if (deleted) set.delete(key);
    else set.add(key);
    if (set.size) byClaim.set(claimKey, set);
    else byClaim.delete(claimKey);
  };

  let running: Running | undefined;
  /** What a start in progress has set up so far (undone when it fails). */
  let partial: Running | undefined;
  let starting: Promise<void> | undefined;
  let started = false;
  let synced = false;

  const dispatch = async (key: string): Promise<ProcessResult> => {
    try {
      if (key.startsWith('vs/')) return await snapshotter.sync(key.slice(3));
      if (key.startsWith('pvc/')) {
        const [ns, name] = key.slice(4).split('/') as [string, string];
        return await promoter.syncClaim(ns, name);
      }
      if (key.startsWith('pv/')) return await promoter.syncVolume(key.slice(3));
      return;
    } catch (err) {
      // Someone wrote the object meanwhile: its watch event queues it again, look again soon.
      if (err instanceof StatusError && err.reason === 'Conflict') return { afterMs: 100 };
      throw err;
    }
  };

  async function runControllers(): Promise<void> {
    const queue = new WorkQueue({
      clock,
      baseDelayMs: options.baseDelayMs,
      maxDelayMs: options.maxDelayMs,
      hooks: {
        depth: (n) => metrics?.queueDepth.set(n),
        retry: (_key, _delay, reason) => metrics?.queueRetries.inc({ reason }),
        error: (key, err) => log.error({ key, err: err instanceof Error ? err.message : String(err) }, 'worker: sync failed'),
      },
    });
    const addSnapshot = (snap: VolumeSnapshot, deleted = false) => {
      index(snap, deleted);
      if (!deleted) queue.add(`vs/${snap.metadata.namespace}/${snap.metadata.name}`);
    };
    // A restore that ends (bound or deleted) may release a snapshot whose deletion waits for it.
    const wakeRestored = (pvc: PersistentVolumeClaim) => {
      const snap = restoreSnapshotName(pvc);
      if (snap) queue.add(`vs/${pvc.metadata.namespace}/${snap}`);
    };
    const onClaim = (pvc: PersistentVolumeClaim) => {
      if (restoreSnapshotName(pvc)) queue.add(`pvc/${pvc.metadata.namespace}/${pvc.metadata.name}`);
      if (pvc.spec?.volumeName) wakeRestored(pvc);
      if (pvc.status?.phase === 'Bound') {
        for (const k of byClaim.get(`${pvc.metadata.namespace}/${pvc.metadata.name}`) ?? []) queue.add(`vs/${k}`);
      }
    };
    const onVolume = (pv: PersistentVolume) => {
      if (shouldDeleteReleased(pv)) queue.add(`pv/${pv.metadata.name}`);
    };

    // List + watch of our snapshots, straight from the Registry (relisting when the watch falls behind).
    let stopCurrent: (() => void) | undefined;
    let watching = true;
    const listAll = async (): Promise<string> => {
      const list = await options.registry.list(VOLUME_SNAPSHOTS);
      for (const item of list.items) addSnapshot(item as unknown as VolumeSnapshot);
      return list.metadata.resourceVersion;
    };
    const r: Running = {
      queue,
      run: Promise.resolve(),
      stopWatch: () => {
        watching = false;
        stopCurrent?.();
      },
      watchLoop: Promise.resolve(),
      informers: [],
    };
    partial = r;
    let rv = await listAll();
    r.watchLoop = (async () => {
      while (watching) {
        try {
          const w = options.registry.watch(VOLUME_SNAPSHOTS, { resourceVersion: rv });
          stopCurrent = () => w.stop();
          if (!watching) w.stop();
          for await (const e of w) {
            if (e.type === 'BOOKMARK') continue;
            rv = String(e.object.metadata.resourceVersion ?? rv);
            addSnapshot(e.object as unknown as VolumeSnapshot, e.type === 'DELETED');
          }
        } catch (err) {
          if (!watching) return;
          log.warn({ err: err instanceof Error ? err.message : String(err) }, 'worker: snapshot watch ended; relisting');
          await new Promise<void>((r) => clock.setTimeout(r, 1000));
          try {
            rv = await listAll();
          } catch {
            // Next round.
          }
        }
      }
    })();

    claims = await options.cluster.informPersistentVolumeClaims({
      onUpsert: onClaim,
      onDelete: wakeRestored,
      onError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'worker: claim informer failed; restarting'),
    });
    r.informers.push(claims);
    const volumes = await options.cluster.informPersistentVolumes({
      onUpsert: onVolume,
      onDelete: () => undefined,
      onError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'worker: volume informer failed; restarting'),
    });
    r.informers.push(volumes);
    // Workers start once the claims are known: a deletion must see the restores in progress.
    r.run = queue.run(Math.max(1, options.workerThreads), dispatch);
    const scheduleResync = () => {
      if (options.resyncPeriodMs <= 0) return;
      r.resync = clock.setTimeout(() => {
        if (queue.isShuttingDown) return;
        for (const keys of byClaim.values()) for (const k of keys) queue.add(`vs/${k}`);
        for (const pvc of claims?.list() ?? []) onClaim(pvc);
        for (const pv of volumes.list()) onVolume(pv);
        scheduleResync();
      }, options.resyncPeriodMs);
    };
    scheduleResync();
    partial = undefined;
    running = r;
    synced = true;
    metrics?.leader.set(1);
    log.info({ identity, workers: options.workerThreads }, 'worker: started');
  }

  async function stopControllers(final = true): Promise<void> {
    if (final) {
      wanted = false;
      if (retryTimer) clock.clearTimeout(retryTimer);
      retryTimer = undefined;
      await starting;
    }
    const r = running ?? partial;
    partial = undefined;
    running = undefined;
    synced = false;
    metrics?.leader.set(0);
    if (!r) return;
    if (r.resync) clock.clearTimeout(r.resync);
    r.stopWatch();
    r.queue.shutDown();
    await Promise.all([r.run, r.watchLoop.catch(() => undefined), ...r.informers.map((i) => i.stop().catch(() => undefined))]);
    claims = undefined;
    byClaim.clear();
    log.info({ identity }, 'worker: stopped');
  }

  let retryTimer: ReturnType<Clock['setTimeout']> | undefined;
  let wanted = false;
  /** Starts the controllers; when the main cluster cannot be listed yet, retries in the background (5 s). */
  const startControllers = (): Promise<void> => {
    wanted = true;
    starting = runControllers().catch(async (err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'worker: could not start; retrying in 5 s');
      // Undo what did start (the watch, an informer) before the next attempt.
      await stopControllers(false);
      if (!wanted) return;
      retryTimer = clock.setTimeout(() => {
        retryTimer = undefined;
        if (wanted) void startControllers();
      }, 5000);
    });
    return starting;
  };

  const elector = options.leaderElection
    ? new LeaderElector({
        leases: options.cluster,
        namespace: options.leaderElection.namespace,
        name: options.leaderElection.name ?? DEFAULT_LEASE_NAME,
        identity,
        leaseDurationMs: options.leaderElection.leaseDurationMs,
        renewDeadlineMs: options.leaderElection.renewDeadlineMs,
        retryPeriodMs: options.leaderElection.retryPeriodMs,
        clock,
        log,
        onStartedLeading: () => {
          startControllers().catch(() => undefined);
        },
        onStoppedLeading: () => stopControllers(),
        onNewLeader: (holder) => log.info({ leader: holder }, 'worker: leader elected'),
      })
    : undefined;

  return {
    async start() {
      if (started) return;
      started = true;
      if (elector) elector.start();
      else await startControllers();
    },
    async stop() {
      if (!started) return;
      started = false;
      if (elector) await elector.stop();
      await stopControllers();
    },
    ready: () => started && (elector ? !elector.isLeader() || synced : synced),
    isLeader: () => (elector ? elector.isLeader() : started),
    async idle() {
      await starting;
      await running?.queue.idle();
    },
  };
}
