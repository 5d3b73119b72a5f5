import t from 'tap';
import { parseResourceVersion, resolveListPosition, resolveWatchStart } from '../../src/storage/resource-version.js';
import { encodeContinue } from '../../src/storage/continue-token.js';
import type { ListOptions } from '../../src/storage/store.js';

const window = { current: 100, compacted: 40 };

t.test('parseResourceVersion', async (t) => {
  t.equal(parseResourceVersion('0'), 0);
  t.equal(parseResourceVersion('123'), 123);
  for (const bad of ['', '-1', '1.5', 'abc', ' 1', '1e3', '9999999999999999']) {
    t.throws(() => parseResourceVersion(bad), { code: 'InvalidResourceVersion' }, JSON.stringify(bad));
  }
});

t.test('list positions', async (t) => {
  const cases: [string, ListOptions, number | string][] = [
    ['unset → current', {}, 100],
    ['"" → current', { resourceVersion: '' }, 100],
    ['"0" → current', { resourceVersion: '0' }, 100],
    ['N without match → not older than → current', { resourceVersion: '50' }, 100],
    ['N NotOlderThan → current', { resourceVersion: '50', resourceVersionMatch: 'NotOlderThan' }, 100],
    ['N Exact → N', { resourceVersion: '50', resourceVersionMatch: 'Exact' }, 50],
    ['N with limit (legacy) → exact', { resourceVersion: '50', limit: 5 }, 50],
    ['Exact at the compaction point is still served', { resourceVersion: '40', resourceVersionMatch: 'Exact' }, 40],
    ['Exact before the window → Expired', { resourceVersion: '39', resourceVersionMatch: 'Exact' }, 'Expired'],
    ['NotOlderThan before the window is fine', { resourceVersion: '1', resourceVersionMatch: 'NotOlderThan' }, 100],
    ['too large', { resourceVersion: '101' }, 'TooLargeResourceVersion'],
    ['too large Exact', { resourceVersion: '101', resourceVersionMatch: 'Exact' }, 'TooLargeResourceVersion'],
    ['invalid', { resourceVersion: 'x' }, 'InvalidResourceVersion'],
    ['continue inside the window', { continue: encodeContinue({ rv: 60, start: 'a/b\u0000' }) }, 60],
    ['continue before the window', { continue: encodeContinue({ rv: 10, start: 'a' }) }, 'Expired'],
    ['continue from the future', { continue: encodeContinue({ rv: 500, start: 'a' }) }, 'TooLargeResourceVersion'],
    ['garbage continue', { continue: '%%%' }, 'InvalidContinue'],
  ];
  for (const [name, options, want] of cases) {
    if (typeof want === 'number') t.equal(resolveListPosition(options, window).rv, want, name);
    else t.throws(() => resolveListPosition(options, window), { code: want }, name);
  }
  t.equal(resolveListPosition({ continue: encodeContinue({ rv: 60, start: 'a/b\u0000' }) }, window).start, 'a/b\u0000');
  t.throws(
    () => resolveListPosition({ continue: encodeContinue({ rv: 10, start: 'a' }) }, window),
    { message: /^The provided continue parameter is too old/ },
  );
  t.throws(() => resolveListPosition({ resourceVersion: '3', resourceVersionMatch: 'Exact' }, window), {
    message: 'The resourceVersion for the provided list is too old.',
    details: { requested: '3', oldest: '41' },
  });
});

t.test('watch starts', async (t) => {
  t.same(resolveWatchStart(undefined, undefined, window), { kind: 'current-state' });
  t.same(resolveWatchStart('0', false, window), { kind: 'current-state' });
  t.same(resolveWatchStart('', true, window), { kind: 'initial-events' });
  t.same(resolveWatchStart('70', true, window), { kind: 'initial-events' }, 'watch-list: at least N');
  t.same(resolveWatchStart('70', undefined, window), { kind: 'replay', after: 70 });
  t.same(resolveWatchStart('40', undefined, window), { kind: 'replay', after: 40 }, 'the compaction point is kept');
  t.same(resolveWatchStart('100', undefined, window), { kind: 'replay', after: 100 });
  t.throws(() => resolveWatchStart('39', undefined, window), {
    code: 'Expired',
    message: 'too old resource version: 39 (40)',
    details: { requested: '39', oldest: '41' },
  });
  t.throws(() => resolveWatchStart('101', undefined, window), {
    code: 'TooLargeResourceVersion',
    message: 'Too large resource version: 101, current: 100',
  });
  t.throws(() => resolveWatchStart('101', true, window), { code: 'TooLargeResourceVersion' });
  t.throws(() => resolveWatchStart('x', undefined, window), { code: 'InvalidResourceVersion' });
});
