// The Compute fake's own contract, through the real SDK: other suites and the bench rely on it.
import { DisksClient, SnapshotsClient, ZoneOperationsClient } from '@google-cloud/compute';
import t from 'tap';
import { StaticTokenAuth } from '../../src/cloud/gce-auth.js';
import { GceFake } from './gce-fake.js';

t.test('list with filter and paging, requestId replay, operation wait, status progression', async (t) => {
  const gce = new GceFake({ pageSize: 2, snapshotCompletionMs: 3000, waitMaxMs: 50 });
  const { port } = await gce.start();
  const opts = { apiEndpoint: '127.0.0.1', port, protocol: 'http', auth: new StaticTokenAuth(gce.token) } as unknown as ConstructorParameters<typeof DisksClient>[0];
  const disks = new DisksClient(opts);
  const snapshots = new SnapshotsClient(opts);
  const ops = new ZoneOperationsClient(opts);
  t.teardown(async () => {
    await Promise.all([disks.close(), snapshots.close(), ops.close()]);
    await gce.stop();
  });
  gce.addDisk({ zone: 'z1', name: 'd1', sizeGb: 3 });
  const requestId = '7d444840-9dc0-11d1-b245-5ffdce74fad2';
  const [first] = await disks.createSnapshot({ project: 'test-project', zone: 'z1', disk: 'd1', requestId, snapshotResource: { name: 's0', labels: { team: 'a' } } });
  const [again] = await disks.createSnapshot({ project: 'test-project', zone: 'z1', disk: 'd1', requestId, snapshotResource: { name: 's0', labels: { team: 'a' } } });
  t.equal(first.name, again.name, 'same requestId → same operation, nothing done twice');
  t.equal(gce.listSnapshots().length, 1);
  const [s0] = await snapshots.get({ project: 'test-project', snapshot: 's0' });
  t.match(s0.status, /^(CREATING|UPLOADING)$/);
  t.equal(Number(s0.diskSizeGb), 3);

  const opName = (first.latestResponse as { name: string }).name;
  let [op] = await ops.wait({ project: 'test-project', zone: 'z1', operation: opName });
  t.equal(op.status, 'RUNNING', 'wait answers after waitMaxMs when not done');
  // Completion is timed (3 s, long enough that a loaded machine still sees RUNNING above); poll for it, bounded.
  for (const deadline = Date.now() + 15_000; op.status !== 'DONE' && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 100));
    [op] = await ops.get({ project: 'test-project', zone: 'z1', operation: opName });
  }
  t.equal(op.status, 'DONE');
  t.equal((await snapshots.get({ project: 'test-project', snapshot: 's0' }))[0].status, 'READY');

  for (let i = 1; i <= 4; i++) {
    await disks.createSnapshot({ project: 'test-project', zone: 'z1', disk: 'd1', snapshotResource: { name: `s${i}`, labels: { team: i % 2 ? 'b' : 'a' } } });
  }
  const [teamA] = await snapshots.list({ project: 'test-project', filter: 'labels.team=a' });
  t.same(teamA.map((s) => s.name).sort(), ['s0', 's2', 's4'], 'filter, all pages (autoPaginate)');
  t.equal(gce.callCount('snapshots.list'), 2, 'two pages of two');
  await t.rejects(snapshots.get({ project: 'test-project', snapshot: 'nope' }), { code: 5 });
  await t.rejects(
    disks.createSnapshot({ project: 'test-project', zone: 'z1', disk: 'd1', snapshotResource: { name: 's1' } }),
    { code: 10, message: /already exists/ },
  );
  gce.injectFault('snapshots.get', { kind: 'throttle' });
  await t.rejects(snapshots.get({ project: 'test-project', snapshot: 's0' }, { retry: { retryCodes: [] } }), { code: 8 });
});
