// Lease leader election as client-go does it (tools/leaderelection/leaderelection.go, resourcelock/leaselock.go):
// acquire and renew are a read + a PUT guarded by resourceVersion (409 = somebody else wrote first); a lease held
// by another is expired when its record has not changed for leaseDuration *by our own clock* (clocks of different
// machines are never compared); the leader that cannot renew within renewDeadline steps down.

import type { Lease, LeaseRecord, MainCluster } from '../cluster/main-cluster.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';

export type LeaseClient = Pick<MainCluster, 'getLease' | 'createLease' | 'updateLease'>;

export interface LeaderElectionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface LeaderElectionOptions {
  leases: LeaseClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  log?: LeaderElectionLogger;
  onStartedLeading(): void | Promise<void>;
  onStoppedLeading(): void | Promise<void>;
  onNewLeader?(identity: string): void;
}

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 5_000;
// wait.JitterUntil with JitterFactor 1.2 in client-go's acquire loop.
const JITTER = 1.2;

function sameRecord(a: LeaseRecord | undefined, b: LeaseRecord | undefined): boolean {
  const key = (r: LeaseRecord | undefined) =>
    r ? [r.holderIdentity ?? '', r.leaseDurationSeconds ?? 0, r.acquireTime?.getTime() ?? 0, r.renewTime?.getTime() ?? 0, r.leaseTransitions ?? 0].join('|') : '';
  return key(a) === key(b);
}

export class LeaderElector {
  private readonly clock: Clock;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private observed: LeaseRecord | undefined;
  private observedAt = 0;
  private lease: Lease | undefined;
  private leading = false;
  private stopped = false;
  private timer: TimerHandle | undefined;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private lastLeader: string | undefined;

  constructor(private readonly o: LeaderElectionOptions) {
    this.clock = o.clock ?? realClock;
    this.leaseMs = o.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewMs = o.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryMs = o.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    if (this.leaseMs <= this.renewMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewMs <= this.retryMs * JITTER) throw new Error('renewDeadline must be greater than retryPeriod*JitterFactor');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Starts electing in the background; `stop` ends it. */
  start(): void {
    this.running ??= this.loop();
  }

  /** Steps down (releasing the lease so another replica need not wait for it to expire) and ends the loop. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.wake?.();
    await this.running;
    if (this.leading) {
      await this.release();
      await this.stepDown();
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      // Acquire: try every retryPeriod (with jitter) until we hold the lease.
      while (!this.stopped && !(await this.tryAcquireOrRenew())) await this.sleep(this.retryMs * (1 + Math.random() * (JITTER - 1)));
      if (this.stopped) return;
      this.leading = true;
      this.o.log?.info({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity }, 'became leader');
      await this.o.onStartedLeading();
      // Renew: every retryPeriod; give up when no renewal succeeded for renewDeadline.
      let lastRenew = this.clock.now();
      while (!this.stopped) {
        await this.sleep(this.retryMs);
        if (this.stopped) return;
        if (await this.tryAcquireOrRenew()) {
          lastRenew = this.clock.now();
        } else if (this.clock.now() - lastRenew >= this.renewMs) {
          this.o.log?.warn({ lease: `${this.o.namespace}/${this.o.name}` }, 'failed to renew the lease: stepping down');
          await this.stepDown();
          break;
        }
      }
    }
  }

  private async stepDown(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    await this.o.onStoppedLeading();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = this.clock.setTimeout(resolve, ms);
    });
  }

  private noteLeader(holder: string | undefined): void {
    if (holder && holder !== this.lastLeader) {
      this.lastLeader = holder;
      this.o.onNewLeader?.(holder);
    }
  }

  /** One attempt; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const fresh: LeaseRecord = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      acquireTime: new Date(now),
      renewTime: new Date(now),
      leaseTransitions: 0,
    };
    try {
      const current = await this.o.leases.getLease(this.o.namespace, this.o.name);
      if (!current) {
        this.lease = await this.o.leases.createLease(this.o.namespace, this.o.name, fresh);
        this.observe(this.lease.record, now);
        this.noteLeader(this.o.identity);
        return true;
      }
      if (!sameRecord(current.record, this.observed)) this.observe(current.record, now);
      const holder = current.record.holderIdentity;
      const mine = holder === this.o.identity;
      const durationMs = (current.record.leaseDurationSeconds ?? Math.ceil(this.leaseMs / 1000)) * 1000;
      if (holder && !mine && this.observedAt + durationMs > now) {
        this.noteLeader(holder);
        return false;
      }
      const next: LeaseRecord = mine
        ? { ...fresh, acquireTime: current.record.acquireTime ?? fresh.acquireTime, leaseTransitions: current.record.leaseTransitions ?? 0 }
        : { ...fresh, leaseTransitions: (current.record.leaseTransitions ?? 0) + (holder ? 1 : 0) };
      this.lease = await this.o.leases.updateLease(current, next);
      this.observe(this.lease.record, now);
      this.noteLeader(this.o.identity);
      return true;
    } catch (err) {
      // 409: another candidate wrote first. Anything else: the main cluster is unreachable; try again later.
      this.o.log?.warn({ err: (err as Error).message, lease: `${this.o.namespace}/${this.o.name}` }, 'lease attempt failed');
      return false;
    }
  }

  private observe(record: LeaseRecord, at: number): void {
    this.observed = record;
    this.observedAt = at;
  }

  /** client-go ReleaseOnCancel: an empty holder with a 1 s duration lets the next candidate take over at once. */
  private async release(): Promise<void> {
    if (!this.lease) return;
    try {
      const current = await this.o.leases.getLease(this.o.namespace, this.o.name);
      if (!current || current.record.holderIdentity !== this.o.identity) return;
      const now = new Date(this.clock.now());
      await this.o.leases.updateLease(current, {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: current.record.leaseTransitions ?? 0,
      });
      this.o.log?.info({ lease: `${this.o.namespace}/${this.o.name}` }, 'released the lease');
    } catch (err) {
      this.o.log?.warn({ err: (err as Error).message }, 'could not release the lease');
    }
  }
}
