// A keyed work queue like client-go's workqueue (util/workqueue/queue.go + rate_limiting_queue.go):
// - a key is queued at most once (dedup); a key added while it is being processed is queued again when done,
//   so one key is never processed by two workers at once;
// - per-key exponential backoff (ItemExponentialFailureRateLimiter: base × 2^failures, capped) plus jitter;
//   `forget` resets it after a success;
// - N workers pull keys; a handler's result says "done", "again with backoff" or "again after N ms".

import { realClock, type Clock, type TimerHandle } from './clock.js';

export type ProcessResult = void | { backoff: 'error' | 'poll' } | { afterMs: number };

export interface WorkQueueHooks {
  /** Queue depth after every change. */
  depth?(n: number): void;
  /** A key was requeued with backoff (`reason` error or poll) after `delayMs`. */
  retry?(key: string, delayMs: number, reason: 'error' | 'poll'): void;
  /** A handler threw: the key is retried with backoff. */
  error?(key: string, err: unknown): void;
}

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Fraction of the delay added at random (0.1 = up to +10 %), so that many keys do not retry in lockstep. */
  jitter?: number;
  clock?: Clock;
  random?: () => number;
  hooks?: WorkQueueHooks;
}

export const DEFAULT_BASE_DELAY_MS = 1000;
export const DEFAULT_MAX_DELAY_MS = 5 * 60 * 1000;

/** The delay before the (failures+1)-th retry, without jitter: base × 2^failures, capped at max. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  if (failures > 40) return maxMs;
  return Math.min(maxMs, baseMs * 2 ** failures);
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly waiting = new Map<string, { at: number; timer: TimerHandle }>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly hooks: WorkQueueHooks;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.baseMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.maxMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.jitter = options.jitter ?? 0.1;
    this.random = options.random ?? Math.random;
    this.hooks = options.hooks ?? {};
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
    } else {
      this.queue.push(key);
    }
    this.hooks.depth?.(this.queue.length);
  }

  /** Adds `key` after `ms`; an earlier pending add-after for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.clock.clearTimeout(existing.timer);
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, timer });
  }

  /** Requeues with per-key exponential backoff; returns the delay chosen. */
  addRateLimited(key: string, reason: 'error' | 'poll' = 'error'): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const base = backoffDelay(n, this.baseMs, this.maxMs);
    const delay = Math.min(this.maxMs, Math.round(base * (1 + this.jitter * this.random())));
    this.hooks.retry?.(key, delay, reason);
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  len(): number {
    return this.queue.length;
  }

  /** Keys queued now or waiting for their delay (tests, metrics). */
  pending(): number {
    return this.queue.length + this.waiting.size + this.processing.size;
  }

  /** The next key (marked processing), or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.hooks.depth?.(this.queue.length);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
    this.checkIdle();
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) this.clock.clearTimeout(timer);
    this.waiting.clear();
    for (const g of this.getters.splice(0)) g(undefined);
    this.checkIdle();
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Resolves when nothing is queued or being processed (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (this.queue.length === 0 && this.processing.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Runs `workers` loops that process keys until shutDown; resolves when all loops have ended (in-flight handlers
   * finish first). A handler that throws is retried with backoff; one that returns nothing is forgotten.
   */
  async run(workers: number, handler: (key: string) => Promise<ProcessResult>): Promise<void> {
    const loop = async () => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          const result = await handler(key);
          if (result && 'afterMs' in result) {
            this.forget(key);
            this.addAfter(key, result.afterMs);
          } else if (result && 'backoff' in result) {
            this.addRateLimited(key, result.backoff);
          } else {
            this.forget(key);
          }
        } catch (err) {
          this.hooks.error?.(key, err);
          this.addRateLimited(key, 'error');
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, workers) }, loop));
  }
}
