import t, { type Test } from 'tap';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigMapWatcher, type ConfigMapData } from '../../src/cluster/authentication-configmap.js';
import { FakeMainApi } from '../fakes/fake-main-api.js';

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function setup(t: Test) {
  const fake = await FakeMainApi.start();
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig());
  const errors: Error[] = [];
  const watcher = new ConfigMapWatcher(kc, { minBackoffMs: 20, maxBackoffMs: 200, onError: (e) => errors.push(e) });
  t.teardown(async () => {
    await watcher.stop();
    await fake.close();
  });
  const seen: (ConfigMapData | undefined)[] = [];
  return { fake, watcher, seen, errors, onChange: (d: ConfigMapData | undefined) => seen.push(d) };
}

t.test('reads the ConfigMap, then sees changes, deletion and re-creation through the watch', async (t) => {
  const { fake, watcher, seen, onChange } = await setup(t);
  fake.setConfigMap({ 'client-ca-file': 'A' });
  t.same(await watcher.start(onChange), { 'client-ca-file': 'A' });
  await until(() => fake.openWatches === 1, 'the watch');
  const w = fake.requests.find((r) => r.query.get('watch') === 'true')!;
  t.equal(w.path, '/api/v1/namespaces/kube-system/configmaps');
  t.equal(w.query.get('fieldSelector'), 'metadata.name=extension-apiserver-authentication');
  t.equal(w.query.get('resourceVersion'), '2');

  fake.setConfigMap({ 'client-ca-file': 'B' });
  await until(() => seen.length === 1, 'the change');
  t.same(seen[0], { 'client-ca-file': 'B' });
  fake.deleteConfigMap();
  await until(() => seen.length === 2, 'the deletion');
  t.equal(seen[1], undefined);
  fake.setConfigMap({ 'client-ca-file': 'C' });
  await until(() => seen.length === 3, 'the re-creation');
  t.same(seen[2], { 'client-ca-file': 'C' });
});

t.test('an absent ConfigMap reads as undefined and its creation is seen', async (t) => {
  const { fake, watcher, seen, onChange } = await setup(t);
  t.equal(await watcher.start(onChange), undefined);
  await until(() => fake.openWatches === 1, 'the watch');
  fake.setConfigMap({ 'requestheader-allowed-names': '[]' });
  await until(() => seen.length === 1, 'the creation');
  t.same(seen[0], { 'requestheader-allowed-names': '[]' });
});

t.test('a dropped watch is followed by a re-read (changes made meanwhile are not lost) and a new watch', async (t) => {
  const { fake, watcher, seen, onChange } = await setup(t);
  fake.setConfigMap({ k: '1' });
  await watcher.start(onChange);
  await until(() => fake.openWatches === 1, 'the watch');
  fake.dropWatches();
  fake.setConfigMap({ k: '2' }); // while no watch is open
  await until(() => seen.length >= 1 && fake.openWatches === 1, 're-read and re-watch');
  t.same(seen.at(-1), { k: '2' });
  const gets = fake.count('/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication', 'GET');
  t.ok(gets >= 2, 'read again after the drop');
  fake.setConfigMap({ k: '3' });
  await until(() => JSON.stringify(seen.at(-1)) === '{"k":"3"}', 'a change on the new watch');
});

t.test('an unreachable cluster: start rejects, errors are reported, and the watcher recovers with backoff', async (t) => {
  const { fake, watcher, seen, errors, onChange } = await setup(t);
  fake.failWith = undefined;
  // Unauthorized kubeconfig stands in for a failing cluster: every read answers 401.
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig().replace('fake-main-api-client-token', 'wrong'));
  const failing = new ConfigMapWatcher(kc, { minBackoffMs: 10, maxBackoffMs: 40, onError: (e) => errors.push(e) });
  t.teardown(() => failing.stop());
  await t.rejects(failing.start(onChange), /reading configmap kube-system\/extension-apiserver-authentication: HTTP 401/);
  await until(() => errors.length >= 3, 'retries');
  await failing.stop();
  const n = fake.requests.length;
  await new Promise((r) => setTimeout(r, 100));
  t.equal(fake.requests.length, n, 'stop() ends the retries');
  t.equal(seen.length, 0);
  void watcher;
});
