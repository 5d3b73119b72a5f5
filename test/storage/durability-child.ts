// Run by durability.test.ts: writes in a loop and acknowledges each write on stdout only after the store returned,
// until it is killed with SIGKILL. argv: <db path> <FULL|NORMAL>
import { writeSync } from 'node:fs';
import { SqliteStore } from '../../src/storage/sqlite-store.js';

const [path, synchronous] = process.argv.slice(2);
const store = SqliteStore.open({ path, synchronous: synchronous === 'NORMAL' ? 'NORMAL' : 'FULL' });
const resource = 'example.com/acks';
for (let i = 0; ; i++) {
  await store.create(resource, { metadata: { name: `o-${i}`, namespace: 'ns' }, spec: { i } });
  await store.guaranteedUpdate({ resource, name: 'counter' }, (current) => ({
    ...(current ?? { metadata: { name: 'counter' } }),
    spec: { count: i },
  }));
  if (i % 3 === 2) await store.delete({ resource, namespace: 'ns', name: `o-${i - 1}` });
  // Synchronous write to the pipe: the acknowledgement leaves the process before the next write starts.
  writeSync(1, `ack ${i}\n`);
}
