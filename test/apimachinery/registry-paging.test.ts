// Paging over a consistent snapshot while writers run (issue 5): every object present throughout the list appears
// exactly once, and objects written during the paging never tear a page.
import t from 'tap';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { Registry } from '../../src/apimachinery/registry.js';
import { volumeSnapshotDefinitions } from '../../src/apis/volumesnapshot/v1/index.js';

const G = 'volumesnapshot.external-storage.k8s.io';
const VS = `volumesnapshots.${G}`;
const snap = (name: string) => ({ apiVersion: `${G}/v1`, kind: 'VolumeSnapshot', metadata: { name }, spec: { persistentVolumeClaimName: 'p' } });

t.test('2,500 objects listed with limit=500 while writers run', async (t) => {
  const store = SqliteStore.open({ path: ':memory:' });
  t.teardown(() => store.close());
  const r = new Registry({ store, definitions: volumeSnapshotDefinitions });
  const stable: string[] = [];
  for (let i = 0; i < 2500; i++) {
    const name = `stable-${String(i).padStart(4, '0')}`;
    stable.push(name);
    await r.create(VS, snap(name), { namespace: i % 2 ? 'a' : 'b' });
  }
  let writing = true;
  let churn = 0;
  const writer = (async () => {
    while (writing) {
      const name = `churn-${churn++}`;
      await r.create(VS, snap(name), { namespace: 'a' });
      if (churn % 2 === 0) await r.delete(VS, { namespace: 'a', name: `churn-${churn - 2}` });
      await r.patch(VS, { namespace: 'b', name: stable[churn % stable.length].replace(/\d+$/, (d) => String(Number(d) - (Number(d) % 2)).padStart(4, '0')), patchType: 'merge', patch: { metadata: { labels: { n: String(churn) } } } }).catch(() => undefined);
      await new Promise((res) => setImmediate(res));
    }
  })();
  const seen = new Map<string, number>();
  let cont: string | undefined;
  let pages = 0;
  let rv: string | undefined;
  do {
    const page = await r.list(VS, { limit: 500, continue: cont });
    rv ??= page.metadata.resourceVersion;
    t.equal(page.metadata.resourceVersion, rv, 'every page is the same snapshot');
    for (const o of page.items) seen.set(`${o.metadata.namespace}/${o.metadata.name}`, (seen.get(`${o.metadata.namespace}/${o.metadata.name}`) ?? 0) + 1);
    cont = page.metadata.continue;
    pages++;
  } while (cont);
  writing = false;
  await writer;
  t.ok(churn > 0, 'writers ran during the paging');
  t.ok(pages >= 5);
  for (const [k, n] of seen) if (n !== 1) t.fail(`${k} seen ${n} times`);
  const stableSeen = [...seen.keys()].filter((k) => k.includes('/stable-'));
  t.equal(stableSeen.length, 2500, 'every stable object exactly once');
});
