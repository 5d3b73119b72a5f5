import t from 'tap';
import { rewindKeys, type HistoryRow } from '../../src/storage/history-rewind.js';

t.test('each touched key gets its state before the earliest later event and its presence now', async (t) => {
  // Oldest first here, reversed below as the store reads them.
  const rows: HistoryRow[] = [
    { rv: 11, key: 'a', type: 'MODIFIED', prev: 'a@5' },
    { rv: 12, key: 'b', type: 'ADDED', prev: null },
    { rv: 13, key: 'a', type: 'MODIFIED', prev: 'a@11' },
    { rv: 14, key: 'c', type: 'DELETED', prev: 'c@3' },
    { rv: 15, key: 'b', type: 'DELETED', prev: 'b@12' },
    { rv: 16, key: 'd', type: 'DELETED', prev: 'd@2' },
    { rv: 17, key: 'd', type: 'ADDED', prev: null },
  ];
  const keys = rewindKeys([...rows].reverse());
  t.same(Object.fromEntries(keys), {
    a: { atRevision: 'a@5', existsNow: true },
    b: { atRevision: null, existsNow: false },
    c: { atRevision: 'c@3', existsNow: false },
    d: { atRevision: 'd@2', existsNow: true },
  });
  t.equal(rewindKeys([]).size, 0);
});
