// Property-based fuzzing over HTTPS against the real server: random objects and random patch sequences never get a
// 5xx; every write that changes something gets a resourceVersion above every earlier one; a read right after a write
// returns what the write answered. The worker is off, so these requests are the only writers.
import fc from 'fast-check';
import t from 'tap';
import { startServer } from '../helpers/test-server.js';
import { API_VERSION, loadCredentials, makeClient, SNAPSHOTS, type Client, type StoredObject } from './harness.js';

const validName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,12}[a-z0-9])?$/);
const anyName = fc.oneof(
  { weight: 4, arbitrary: validName },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('..', 'a/b', 'A', '', '%2F', 'a'.repeat(254), 'a\u0000b', '\u{1F4A5}') },
);
const labelKey = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z]([-a-z0-9_.]{0,10}[a-z0-9])?$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('example.com/k', 'a/b/c', '/k', 'k/', 'x'.repeat(64)) },
);
const labelValue = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^([a-zA-Z0-9]([-a-zA-Z0-9_.]{0,10}[a-zA-Z0-9])?)?$/) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 70 }), fc.integer(), fc.boolean(), fc.constant(null)) },
);
const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const json = fc.jsonValue({ maxDepth: 3 });

const randomSnapshot = fc.record(
  {
    apiVersion: fc.oneof({ weight: 6, arbitrary: fc.constant(API_VERSION) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }),
    kind: fc.oneof({ weight: 6, arbitrary: fc.constant('VolumeSnapshot') }, { weight: 1, arbitrary: scalar }),
    metadata: fc.record(
      {
        name: anyName,
        generateName: fc.oneof(validName.map((n) => `${n}-`), fc.string({ maxLength: 10 })),
        labels: fc.oneof(fc.dictionary(labelKey, labelValue, { maxKeys: 4 }), scalar),
        annotations: fc.oneof(fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string({ maxLength: 30 }), scalar), { maxKeys: 3 }), scalar),
        finalizers: fc.oneof(fc.array(fc.oneof(fc.constant('example.com/f'), fc.string({ maxLength: 12 })), { maxLength: 2 }), scalar),
        uid: fc.string({ maxLength: 10 }),
        creationTimestamp: fc.oneof(fc.constant('2020-01-01T00:00:00Z'), scalar),
      },
      { requiredKeys: [] },
    ),
    spec: fc.oneof(
      { weight: 6, arbitrary: fc.record({ persistentVolumeClaimName: fc.oneof(validName, scalar), snapshotDataName: fc.oneof(validName, scalar) }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: json },
    ),
    status: fc.oneof(fc.record({ conditions: fc.array(fc.record({ type: fc.constantFrom('Ready', 'Error', 'Pending', 'X'), status: fc.constantFrom('True', 'False', 'Maybe') }), { maxLength: 2 }) }), json),
    extra: json,
  },
  { requiredKeys: ['metadata'] },
);

const validLabels = fc.dictionary(fc.stringMatching(/^[a-z]([-a-z0-9_.]{0,10}[a-z0-9])?$/), fc.stringMatching(/^([a-zA-Z0-9]([-a-zA-Z0-9_.]{0,10}[a-zA-Z0-9])?)?$/), { maxKeys: 4 });
const validSnapshot = fc.record({
  apiVersion: fc.constant(API_VERSION),
  kind: fc.constant('VolumeSnapshot'),
  metadata: fc.record(
    {
      name: validName,
      labels: validLabels,
      annotations: fc.dictionary(fc.stringMatching(/^[a-z]([-a-z0-9.]{0,10}[a-z0-9])?$/), fc.string({ maxLength: 40 }), { maxKeys: 3 }),
    },
    { requiredKeys: ['name'] },
  ),
  spec: fc.record({ persistentVolumeClaimName: validName, snapshotDataName: validName }, { requiredKeys: ['persistentVolumeClaimName'] }),
});
const someSnapshot = fc.oneof({ weight: 3, arbitrary: validSnapshot }, { weight: 2, arbitrary: randomSnapshot });

type Patch = { path: '' | '/status'; ctype: string; body: unknown };
const patchOp: fc.Arbitrary<Patch> = fc.oneof(
  fc.dictionary(labelKey, fc.oneof(labelValue, fc.constant(null)), { maxKeys: 3 }).map((labels) => ({ path: '' as const, ctype: 'application/merge-patch+json', body: { metadata: { labels } } })),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 20 }), fc.constant(null)), { maxKeys: 2 }).map((annotations) => ({ path: '' as const, ctype: 'application/merge-patch+json', body: { metadata: { annotations } } })),
  fc.oneof(validName, scalar).map((claim) => ({ path: '' as const, ctype: 'application/merge-patch+json', body: { spec: { persistentVolumeClaimName: claim } } })),
  fc.oneof(validName, scalar).map((data) => ({ path: '' as const, ctype: 'application/merge-patch+json', body: { spec: { snapshotDataName: data } } })),
  json.map((v) => ({ path: '' as const, ctype: 'application/merge-patch+json', body: v })),
  fc
    .record({
      op: fc.constantFrom('add', 'remove', 'replace', 'test', 'move', 'copy', 'bogus'),
      path: fc.constantFrom('/metadata/labels/a', '/metadata/labels', '/metadata/annotations', '/metadata/finalizers', '/metadata/finalizers/-', '/spec/persistentVolumeClaimName', '/spec/snapshotDataName', '/status', '/metadata/resourceVersion', '/metadata/name', '/x', ''),
      from: fc.constantFrom('/metadata/labels', '/spec', '/nothing'),
      value: json,
    })
    .map((op) => ({ path: '' as const, ctype: 'application/json-patch+json', body: [op] })),
  fc
    .array(fc.record({ type: fc.constantFrom('Ready', 'Error', 'Pending', 'Bogus'), status: fc.constantFrom('True', 'False', 'Unknown', 'Maybe'), reason: fc.string({ maxLength: 10 }), message: fc.string({ maxLength: 30 }) }, { requiredKeys: ['type', 'status'] }), { maxLength: 3 })
    .map((conditions) => ({ path: '/status' as const, ctype: 'application/merge-patch+json', body: { status: { conditions } } })),
);

/** The object without what every write changes by itself. */
function content(o: StoredObject): string {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = o.metadata as StoredObject['metadata'] & { managedFields?: unknown };
  return JSON.stringify({ ...o, metadata: meta });
}

// A new seed each run (printed, and FUZZ_SEED=<n> replays it): CI keeps exploring.
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

t.test('fuzzing: random objects and patch sequences', async (t) => {
  t.comment(`FUZZ_SEED=${SEED}`);
  const server = await startServer({ args: ['--worker=false'] });
  t.teardown(() => server.stop());
  const client: Client = makeClient(server, await loadCredentials(server.certDir));
  let highestRv = 0;
  let requests = 0;
  let writes = 0;
  const fiveHundreds: string[] = [];

  const send = async (method: string, p: string, ctype: string | undefined, body: unknown) => {
    requests++;
    const res = await client.request({
      method,
      path: p,
      headers: ctype ? { 'content-type': ctype } : {},
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    if (res.status >= 500) fiveHundreds.push(`${method} ${p} ${JSON.stringify(body).slice(0, 300)} → ${res.status} ${res.body.slice(0, 300)}`);
    return res;
  };

  /** Checks a successful write: a higher resourceVersion when it changed something, and a read that agrees. */
  const checkWrite = async (obj: StoredObject, previous: StoredObject | undefined): Promise<boolean> => {
    const rv = Number(obj.metadata.resourceVersion);
    const changed = !previous || content(previous) !== content(obj);
    if (changed) {
      writes++;
      if (!(rv > highestRv)) return false;
      highestRv = rv;
    } else if (rv !== Number(previous.metadata.resourceVersion)) {
      // A write that changes nothing keeps the resourceVersion, as upstream's no-op update does.
      if (!(rv > highestRv)) return false;
      highestRv = rv;
    }
    const read = await send('GET', `${SNAPSHOTS}/${encodeURIComponent(obj.metadata.name)}`, undefined, undefined);
    return read.status === 200 && JSON.stringify(JSON.parse(read.body)) === JSON.stringify(obj);
  };

  await t.test('random objects: no 5xx, increasing resourceVersions, read-after-write', async (t) => {
    let created = 0;
    let unique = 0;
    await fc.assert(
      fc.asyncProperty(someSnapshot, fc.constantFrom('application/json', 'application/json', 'application/yaml', 'text/plain'), fc.boolean(), async (generated, ctype, strict) => {
        // Valid names get a unique suffix, so creates do not merely collide.
        const obj = structuredClone(generated) as { metadata: { name?: unknown } };
        if (typeof obj.metadata.name === 'string' && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(obj.metadata.name)) obj.metadata.name += `-${unique++}`;
        const res = await send('POST', `${SNAPSHOTS}${strict ? '?fieldValidation=Strict' : ''}`, ctype, obj);
        if (res.status >= 500) return false;
        if (res.status !== 201) return res.status >= 400;
        created++;
        return checkWrite(JSON.parse(res.body) as StoredObject, undefined);
      }),
      { numRuns: 120, seed: SEED },
    );
    t.ok(created > 10, `${created} of 120 random objects were valid and created`);
  });

  await t.test('random patch sequences: no 5xx, increasing resourceVersions, read-after-write', async (t) => {
    let seq = 0;
    let applied = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(patchOp, { minLength: 1, maxLength: 8 }), async (patches) => {
        const name = `fuzz-seq-${seq++}`;
        const created = await send('POST', SNAPSHOTS, 'application/json', { apiVersion: API_VERSION, kind: 'VolumeSnapshot', metadata: { name }, spec: { persistentVolumeClaimName: 'claim' } });
        if (created.status !== 201) return false;
        let current = JSON.parse(created.body) as StoredObject;
        if (!(await checkWrite(current, undefined))) return false;
        for (const p of patches) {
          const res = await send('PATCH', `${SNAPSHOTS}/${name}${p.path}`, p.ctype, p.body);
          if (res.status >= 500) return false;
          if (res.status !== 200) {
            if (res.status < 400) return false;
            continue;
          }
          applied++;
          const next = JSON.parse(res.body) as StoredObject;
          if (!(await checkWrite(next, current))) return false;
          current = next;
        }
        return true;
      }),
      { numRuns: 50, seed: SEED + 1 },
    );
    t.ok(applied > 20, `${applied} patches applied`);
  });

  t.same(fiveHundreds, [], 'no 5xx');
  t.equal((await client.request({ path: '/readyz' })).body, 'ok', 'still ready');
  t.comment(`${requests} fuzzed requests, ${writes} changing writes, highest resourceVersion ${highestRv}`);
});
