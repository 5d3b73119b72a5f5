// Client-side pacing of cloud calls (--cloud-qps / --cloud-burst) and bounded retries with exponential backoff
// and full jitter (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). A throttling answer
// also pauses the whole bucket, so every caller of the provider slows down, not only the one that was refused.

import { CloudError } from './cloud-error.js';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class TokenBucket {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  private queue: Promise<void> = Promise.resolve();

  /** qps <= 0 disables the limit. */
  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = Math.max(1, burst);
    this.last = clock.now();
  }

  /** Resolves when the caller may make one call; callers are served in order. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForToken());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Stops handing out tokens for `ms` (after a throttling answer) and empties the bucket. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
    // Refill only after the pause, so calls resume at the steady rate instead of in a burst.
    this.tokens = 0;
    this.last = Math.max(this.last, this.pausedUntil);
  }

  private refill(): void {
    const now = this.clock.now();
    if (this.qps > 0) this.tokens = Math.min(Math.max(1, this.burst), this.tokens + (Math.max(0, now - this.last) / 1000) * this.qps);
    this.last = Math.max(this.last, now);
  }

  private async waitForToken(): Promise<void> {
    while (true) {
      const pause = this.pausedUntil - this.clock.now();
      if (pause > 0) {
        await this.clock.sleep(pause);
        continue;
      }
      if (this.qps <= 0) return;
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.qps) * 1000));
    }
  }
}

export interface RetryOptions {
  /** Total attempts, first included (≥ 1). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Extra pause of the whole bucket after a throttling answer (0 = only back off this call). */
  throttlePauseMs?: number;
  random?: () => number;
}

export const defaultRetryOptions: RetryOptions = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000, throttlePauseMs: 1_000 };

/** Full-jitter delay before retry number `retry` (1-based). */
export function backoffDelay(retry: number, options: RetryOptions): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  const random = options.random ?? Math.random;
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** What one provider uses for every cloud call: a bucket, a retry policy, a classifier and a clock. */
export class CallPacer {
  /** Counts throttling answers seen, for metrics and tests. */
  throttledCount = 0;

  constructor(
    private readonly bucket: TokenBucket,
    private readonly retry: RetryOptions,
    private readonly classify: (err: unknown) => CloudError,
    private readonly clock: Clock = realClock,
    /** Bounds each call for SDKs that have no request timeout of their own (google-gax's REST transport). */
    private readonly callTimeoutMs?: number,
  ) {}

  /** One rate-limited call, no retry. */
  async once<T>(fn: () => Promise<T>): Promise<T> {
    await this.bucket.take();
    try {
      return await this.bounded(fn());
    } catch (err) {
      const cloudErr = this.classify(err);
      if (cloudErr.throttled) this.onThrottled();
      throw cloudErr;
    }
  }

  private bounded<T>(call: Promise<T>): Promise<T> {
    const ms = this.callTimeoutMs;
    if (!ms) return call;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // gax promises can be cancelled; the request is then aborted instead of left running.
        (call as { cancel?: () => void }).cancel?.();
        reject(new CloudError({ code: 'Timeout', message: `no answer within ${ms} ms`, retryable: true }));
      }, ms);
    });
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * Runs `fn` (which may make several rate-limited calls through `once`) and retries it while the error is
   * retryable. `fn` must be safe to repeat: creations re-check for what an earlier attempt may have made.
   */
  async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const cloudErr = this.classify(err);
        if (!cloudErr.retryable || attempt >= this.retry.attempts) throw cloudErr;
        await this.clock.sleep(backoffDelay(attempt, this.retry));
      }
    }
  }

  /** Shorthand: a single call, rate-limited and retried. */
  call<T>(fn: () => Promise<T>): Promise<T> {
    return this.withRetry(() => this.once(fn));
  }

  private onThrottled(): void {
    this.throttledCount++;
    if (this.retry.throttlePauseMs) this.bucket.pause(this.retry.throttlePauseMs);
  }
}
