import t from 'tap';
import { CloudError } from '../../src/cloud/cloud-error.js';
import { CallPacer, TokenBucket, backoffDelay, type Clock } from '../../src/cloud/rate-limiter.js';

/** A clock whose sleep advances time at once, recording what was slept. */
function manualClock(): Clock & { t: number; slept: number[] } {
  const c = {
    t: 0,
    slept: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

t.test('token bucket: burst at once, then one token per 1/qps, in order', async (t) => {
  const clock = manualClock();
  const bucket = new TokenBucket(2, 3, clock);
  const times: number[] = [];
  await Promise.all(Array.from({ length: 7 }, () => bucket.take().then(() => times.push(clock.t))));
  t.same(times.slice(0, 3), [0, 0, 0], 'burst of 3');
  t.same(times.slice(3), [500, 1000, 1500, 2000], '2 per second afterwards');
});

t.test('token bucket: qps 0 means unlimited; pause holds everyone back', async (t) => {
  const clock = manualClock();
  const unlimited = new TokenBucket(0, 0, clock);
  for (let i = 0; i < 100; i++) await unlimited.take();
  t.equal(clock.t, 0);
  unlimited.pause(750);
  await unlimited.take();
  t.equal(clock.t, 750);
  const limited = new TokenBucket(10, 5, clock);
  limited.pause(300);
  await limited.take();
  t.equal(clock.t, 750 + 300 + 100, 'paused, and the bucket was emptied');
});

t.test('backoff: exponential, capped, with jitter in [cap/2, cap]', async (t) => {
  const opts = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
  t.equal(backoffDelay(1, { ...opts, random: () => 0 }), 50);
  t.equal(backoffDelay(1, { ...opts, random: () => 1 }), 100);
  t.equal(backoffDelay(3, { ...opts, random: () => 1 }), 400);
  t.equal(backoffDelay(8, { ...opts, random: () => 1 }), 1000);
  t.equal(backoffDelay(8, { ...opts, random: () => 0 }), 500);
});

t.test('pacer: retries retryable errors up to the bound, never terminal ones; throttling pauses the bucket', async (t) => {
  const clock = manualClock();
  const classify = (e: unknown) => (e instanceof CloudError ? e : new CloudError({ code: 'X', message: String(e), retryable: false }));
  const pacer = new CallPacer(new TokenBucket(0, 1, clock), { attempts: 3, baseDelayMs: 10, maxDelayMs: 100, throttlePauseMs: 1000, random: () => 1 }, classify, clock);

  let calls = 0;
  const flaky = () => {
    calls++;
    if (calls < 3) return Promise.reject(new CloudError({ code: 'InternalError', message: 'boom', retryable: true }));
    return Promise.resolve('ok');
  };
  t.equal(await pacer.call(flaky), 'ok');
  t.equal(calls, 3);
  t.same(clock.slept, [10, 20]);

  calls = 0;
  await t.rejects(
    pacer.call(() => {
      calls++;
      return Promise.reject(new CloudError({ code: 'InternalError', message: 'boom', retryable: true }));
    }),
    { code: 'InternalError' },
  );
  t.equal(calls, 3, 'bounded');

  calls = 0;
  await t.rejects(
    pacer.call(() => {
      calls++;
      return Promise.reject(new Error('bad parameter'));
    }),
    { code: 'X', retryable: false },
  );
  t.equal(calls, 1, 'terminal: no retry');

  clock.slept.length = 0;
  calls = 0;
  await pacer.call(() => {
    calls++;
    return calls === 1 ? Promise.reject(new CloudError({ code: 'RequestLimitExceeded', message: 'slow down', retryable: true, throttled: true })) : Promise.resolve(1);
  });
  t.equal(pacer.throttledCount, 1);
  t.same(clock.slept, [10, 990], 'backoff, then the rest of the bucket pause');
});

t.test('pacer: a call that does not answer in time is a retryable Timeout', async (t) => {
  const classify = (e: unknown) => (e instanceof CloudError ? e : new CloudError({ code: 'X', message: String(e), retryable: false }));
  const pacer = new CallPacer(new TokenBucket(0, 1), { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, classify, undefined, 50);
  let cancelled = false;
  const hanging = Object.assign(new Promise<never>(() => {}), { cancel: () => (cancelled = true) });
  await t.rejects(pacer.once(() => hanging), { code: 'Timeout', retryable: true });
  t.ok(cancelled, 'a cancellable call is cancelled');
});
