import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/storage/sqlite-store.js';

const child = fileURLToPath(new URL('./durability-child.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'store-durability-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Starts the writer, kills it with SIGKILL once it acknowledged `targetAcks` writes (or after 10 s on a slow disk,
 * if it acknowledged at least 20); returns the acks.
 */
async function writeThenKill(path: string, synchronous: string, targetAcks: number): Promise<number[]> {
  const proc = spawn(process.execPath, [child, path, synchronous], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: number[] = [];
  let buffered = '';
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    proc.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  proc.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!; // a partial line is not an acknowledgement
    for (const line of lines) acks.push(Number(line.replace(/^ack /, '')));
    if (acks.length >= targetAcks && !proc.killed) proc.kill('SIGKILL');
  });
  const how = await exited;
  clearTimeout(timer);
  if (how !== 'SIGKILL' || acks.length < 20) {
    throw new Error(`writer ended with ${how} after ${acks.length} acknowledgements: ${stderr}`);
  }
  return acks;
}

for (const synchronous of ['FULL', 'NORMAL']) {
  t.test(`every acknowledged write survives kill -9 (synchronous=${synchronous})`, async (t) => {
    const path = join(dir, `store-${synchronous}.db`);
    const acks = await writeThenKill(path, synchronous, 300);
    const last = acks[acks.length - 1];
    t.same(acks, Array.from({ length: acks.length }, (_, i) => i), `acks in order up to ${last}`);

    const store = SqliteStore.open({ path });
    t.teardown(() => store.close());
    const resource = 'example.com/acks';
    const names = new Set((await store.list(resource, { namespace: 'ns' })).items.map((o) => o.metadata.name));
    const missing = acks.filter((i) => !(i % 3 === 1 && i + 1 <= last) && !names.has(`o-${i}`));
    t.same(missing, [], 'every acknowledged create is there');
    const deletedButPresent = acks.filter((i) => i % 3 === 2 && names.has(`o-${i - 1}`));
    t.same(deletedButPresent, [], 'every acknowledged delete stayed deleted');
    const counter = (await store.get({ resource, name: 'counter' })) as { spec: { count: number } } | undefined;
    t.ok(counter && counter.spec.count >= last, `the counter has at least the last acknowledged value ${last}`);

    // The revision bookkeeping is intact: the next write gets a fresh revision and watches replay the history.
    const rv = Number(await store.currentResourceVersion());
    const next = await store.create(resource, { metadata: { name: 'after-restart', namespace: 'ns' } });
    t.equal(Number(next.metadata.resourceVersion), rv + 1);
    const it = store.watch(resource, { resourceVersion: String(rv - 3) })[Symbol.asyncIterator]();
    const replayed: string[] = [];
    for (let i = 0; i < 4; i++) replayed.push((await it.next()).value!.resourceVersion);
    t.same(replayed, [rv - 2, rv - 1, rv, rv + 1].map(String), 'history up to the kill is replayable');
  });
}
