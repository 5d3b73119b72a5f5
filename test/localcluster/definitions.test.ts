// The local cluster's definitions: schemas compile and accept the kinds as kubectl sends them; strategy validation
// speaks upstream's words (core/validation, storage/validation); defaults; immutability; decode-time 400s; columns.
import t from 'tap';
import { createSchemaValidatorFactory } from '../../src/apimachinery/schema-validation.js';
import { formatFieldError, StatusError } from '../../src/apimachinery/status-error.js';
import type { KubeObject, ResourceDefinition } from '../../src/apimachinery/resource-definition.js';
import { localClusterDefinitions } from '../../src/localcluster/definitions.js';
import { microTimeError, formatMicroTime } from '../../src/localcluster/micro-time.js';

const defs = localClusterDefinitions({ clock: () => new Date('2026-01-02T03:04:05Z') });
const def = (plural: string): ResourceDefinition => defs.find((d) => d.plural === plural)!;
const factory = createSchemaValidatorFactory();

function errors(d: ResourceDefinition, obj: unknown): string[] {
  // Deduplicated as the Registry does before answering.
  return [...new Set([...factory.compile(d.schema as object)(obj), ...(d.strategy.validate?.(obj as KubeObject) ?? [])].map(formatFieldError))];
}

function created(d: ResourceDefinition, obj: Record<string, unknown>): KubeObject {
  const o = structuredClone(obj) as KubeObject;
  o.metadata.creationTimestamp ??= '2026-01-02T03:04:05Z';
  d.strategy.prepareForCreate?.(o);
  return o;
}

const ACCESS = '"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"';

const goodPvc = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
};
const goodPv = {
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: 'pv-demo' },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/pv-demo', type: 'DirectoryOrCreate' } },
};

t.test('discovery data', async (t) => {
  t.same(
    defs.map((d) => [d.group, d.plural, d.namespaced, d.shortNames ?? []]),
    [
      ['', 'namespaces', false, ['ns']],
      ['', 'persistentvolumeclaims', true, ['pvc']],
      ['', 'persistentvolumes', false, ['pv']],
      ['', 'events', true, ['ev']],
      ['', 'pods', true, ['po']],
      ['storage.k8s.io', 'storageclasses', false, ['sc']],
      ['coordination.k8s.io', 'leases', true, []],
    ],
  );
  t.same(def('persistentvolumeclaims').columns.map((c) => c.name), ['Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode']);
  t.same(def('persistentvolumes').columns.filter((c) => c.priority === 0).map((c) => c.name), ['Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age']);
  t.same(def('storageclasses').columns.map((c) => c.name), ['Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']);
  t.same(def('events').columns.filter((c) => c.priority === 0).map((c) => c.name), ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
  for (const f of ['involvedObject.name', 'involvedObject.namespace', 'involvedObject.kind', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'reason', 'source', 'type']) {
    t.ok(def('events').selectableFields?.[f], `events select on ${f}`);
  }
});

t.test('PersistentVolumeClaim', async (t) => {
  const d = def('persistentvolumeclaims');
  const pvc = created(d, goodPvc);
  t.same(errors(d, pvc), [], 'valid claim');
  t.equal((pvc.spec as { volumeMode: string }).volumeMode, 'Filesystem', 'volumeMode defaulted');
  t.same(pvc.status, { phase: 'Pending' }, 'phase Pending');
  t.same(pvc.metadata.finalizers, undefined, 'no pvc-protection finalizer');

  const cases: [string, Record<string, unknown>, string[]][] = [
    ['no access modes', { accessModes: [], resources: { requests: { storage: '1Gi' } } }, ['spec.accessModes: Required value: at least 1 access mode is required']],
    ['bad access mode', { accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '1Gi' } } }, [`spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: ${ACCESS}`]],
    [
      'RWOP with others',
      { accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      ['spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes'],
    ],
    ['no storage request', { accessModes: ['ReadWriteOnce'], resources: {} }, ['spec.resources[storage]: Required value']],
    ['zero storage', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '0' } } }, ['spec.resources[storage]: Invalid value: "0": must be greater than zero']],
    [
      'bad volumeMode',
      { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Raw' },
      ['spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"'],
    ],
    [
      'bad class name',
      { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'Fast_SSD' },
      [
        "spec.storageClassName: Invalid value: \"Fast_SSD\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    [
      'selector values for In',
      { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: [] }] } },
      ["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    ],
  ];
  for (const [name, spec, want] of cases) {
    t.same(errors(d, { ...goodPvc, spec, status: { phase: 'Pending' } }), want, name);
  }

  const bad = structuredClone(goodPvc) as KubeObject;
  (bad.spec as { resources: { requests: { storage: string } } }).resources.requests.storage = '1 Gi';
  t.throws(
    () => d.strategy.prepareForCreate!(bad),
    new StatusError(
      400,
      'BadRequest',
      "PersistentVolumeClaim in version \"v1\" cannot be handled as a PersistentVolumeClaim: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ),
    'malformed quantity is a decode error (400)',
  );
});

t.test('PersistentVolumeClaim update rules', async (t) => {
  const d = def('persistentvolumeclaims');
  const old = created(d, goodPvc);
  const upd = (mutate: (o: KubeObject & { spec: Record<string, unknown> }) => void, phase = 'Pending') => {
    const o = structuredClone(old) as KubeObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
    const before = structuredClone(old) as KubeObject & { status: Record<string, unknown> };
    before.status.phase = phase;
    o.status.phase = phase;
    mutate(o);
    return d.strategy.validateUpdate!(o, before, {}).map(formatFieldError);
  };
  t.same(upd((o) => (o.spec.volumeName = 'pv-demo')), [], 'volumeName set once');
  t.same(upd((o) => (o.spec.storageClassName = 'fast')), [], 'storageClassName set while unset');
  const SPEC_IMMUTABLE = 'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';
  t.same(upd((o) => (o.spec.accessModes = ['ReadWriteMany'])), [SPEC_IMMUTABLE], 'access modes immutable');
  t.same(upd((o) => ((o.spec.resources as { requests: Record<string, string> }).requests.storage = '2Gi')), [SPEC_IMMUTABLE], 'unbound claims cannot grow');
  t.same(upd((o) => ((o.spec.resources as { requests: Record<string, string> }).requests.storage = '2Gi'), 'Bound'), [], 'bound claims can grow');
  t.same(
    upd((o) => ((o.spec.resources as { requests: Record<string, string> }).requests.storage = '512Mi'), 'Bound'),
    ['spec.resources.requests.storage: Forbidden: field can not be less than previous value'],
    'nor shrink',
  );
  t.same(upd((o) => ((o.spec.resources as { requests: Record<string, string> }).requests.storage = '1024Mi')), [], 'same quantity in other units is no change');
  const withVolume = structuredClone(old) as KubeObject & { spec: Record<string, unknown> };
  withVolume.spec.volumeName = 'a';
  const moved = structuredClone(withVolume);
  moved.spec.volumeName = 'b';
  t.same(d.strategy.validateUpdate!(moved, withVolume, {}).map(formatFieldError), [SPEC_IMMUTABLE], 'volumeName fixed once set');
});

t.test('PersistentVolume', async (t) => {
  const d = def('persistentvolumes');
  const pv = created(d, goodPv);
  t.same(errors(d, pv), [], 'valid volume');
  t.equal((pv.spec as { persistentVolumeReclaimPolicy: string }).persistentVolumeReclaimPolicy, 'Retain', 'reclaim defaulted');
  t.equal((pv.spec as { volumeMode: string }).volumeMode, 'Filesystem', 'volumeMode defaulted');
  t.same(pv.status, { phase: 'Pending', lastPhaseTransitionTime: '2026-01-02T03:04:05Z' });
  const spec = (extra: Record<string, unknown>, drop: string[] = []) => {
    const s: Record<string, unknown> = { ...(goodPv.spec as Record<string, unknown>), persistentVolumeReclaimPolicy: 'Retain', ...extra };
    for (const k of drop) delete s[k];
    return { ...goodPv, spec: s };
  };
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['no source', spec({}, ['hostPath']), ['spec: Required value: must specify a volume type']],
    ['two sources', spec({ awsElasticBlockStore: { volumeID: 'vol-1' } }), ['spec.awsElasticBlockStore: Forbidden: may not specify more than 1 volume type']],
    ['no capacity', spec({}, ['capacity']), ['spec.capacity: Required value', 'spec.capacity: Unsupported value: {}: supported values: "storage"']],
    ['no access modes', spec({}, ['accessModes']), ['spec.accessModes: Required value']],
    ['hostPath needs a path', spec({ hostPath: {} }), ['spec.hostPath.path: Required value']],
    ['hostPath backsteps', spec({ hostPath: { path: '/tmp/../etc' } }), ['spec.hostPath.path: Invalid value: "/tmp/../etc": must not contain \'..\'']],
    ['csi needs driver and handle', spec({ csi: {} }, ['hostPath']), ['spec.csi.driver: Required value', 'spec.csi.volumeHandle: Required value']],
    ['bad reclaim', spec({ persistentVolumeReclaimPolicy: 'Keep' }), ['spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"']],
    ['local needs affinity', spec({ local: { path: '/mnt/disk' } }, ['hostPath']), ['spec.nodeAffinity: Required value: Local volume requires node affinity']],
  ];
  for (const [name, obj, want] of cases) t.same(errors(d, obj), want, name);

  const changed = structuredClone(pv) as KubeObject & { spec: Record<string, unknown> };
  changed.spec.hostPath = { path: '/tmp/elsewhere' };
  t.same(d.strategy.validateUpdate!(changed, pv, {}).map(formatFieldError), ['spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation']);
  const claimed = structuredClone(pv) as KubeObject & { spec: Record<string, unknown> };
  claimed.spec.claimRef = { namespace: 'default', name: 'data' };
  t.same(d.strategy.validateUpdate!(claimed, pv, {}), [], 'claimRef may change');
});

t.test('StorageClass', async (t) => {
  const d = def('storageclasses');
  const sc = created(d, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, provisioner: 'example.com/fast' });
  t.same(errors(d, sc), []);
  t.match(sc, { reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate', allowVolumeExpansion: false }, 'defaults');
  t.same(errors(d, { ...sc, provisioner: undefined }), ['provisioner: Required value']);
  t.same(errors(d, { ...sc, reclaimPolicy: 'Recycle' }), ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"']);
  t.same(errors(d, { ...sc, volumeBindingMode: 'Later' }), ['volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"']);
  t.match(errors(d, { ...sc, provisioner: 'bad provisioner!' })[0], /^provisioner: Invalid value: "bad provisioner!": name part must consist of alphanumeric characters/);
  const next = { ...sc, provisioner: 'example.com/other', parameters: { type: 'gp3' }, reclaimPolicy: 'Retain' } as KubeObject;
  t.same(d.strategy.validateUpdate!(next, sc, {}).map(formatFieldError), [
    'parameters: Forbidden: updates to parameters are forbidden.',
    'provisioner: Forbidden: updates to provisioner are forbidden.',
    'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
  ]);
  t.same(d.columns.map((c) => c.cell(sc)), ['example.com/fast', 'Delete', 'Immediate', 'false', '2026-01-02T03:04:05Z']);
});

t.test('Namespace and Event', async (t) => {
  const ns = def('namespaces');
  const o = created(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  t.same(o.status, { phase: 'Active' });
  t.same(o.spec, undefined, 'no kubernetes finalizer');
  t.same(errors(ns, { ...o, metadata: { name: 'a.b' } }), ['metadata.name: Invalid value: "a.b": must not contain dots']);
  t.match(errors(ns, { ...o, metadata: { name: 'Team' } })[0], /^metadata\.name: Invalid value: "Team": a lowercase RFC 1123 label must consist of/);

  const ev = def('events');
  const e = created(ev, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'data.1', namespace: 'default' },
    involvedObject: { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: 'u1', apiVersion: 'v1' },
    reason: 'ExternalProvisioning',
    message: 'waiting',
    source: { component: 'persistentvolume-controller' },
  });
  t.same(errors(ev, e), []);
  t.match(e, { type: 'Normal', count: 1, firstTimestamp: '2026-01-02T03:04:05Z', lastTimestamp: '2026-01-02T03:04:05Z', reportingComponent: 'persistentvolume-controller' });
  t.same(errors(ev, { ...e, involvedObject: { ...(e.involvedObject as object), namespace: 'other' } }), ['involvedObject.namespace: Invalid value: "other": does not match event.namespace']);
  t.same(ev.columns.filter((c) => c.priority === 0).map((c) => c.cell(e)), ['2026-01-02T03:04:05Z', 'Normal', 'ExternalProvisioning', 'persistentvolumeclaim/data', 'waiting']);
  const values = Object.fromEntries(Object.entries(ev.selectableFields!).map(([k, f]) => [k, f(e)]));
  t.match(values, { 'involvedObject.kind': 'PersistentVolumeClaim', 'involvedObject.uid': 'u1', source: 'persistentvolume-controller', type: 'Normal' });
});

t.test('Lease MicroTime', async (t) => {
  t.equal(microTimeError('2026-01-02T03:04:05.123456Z'), undefined);
  t.equal(microTimeError('2026-01-02T03:04:05.123456+02:00'), undefined);
  t.equal(
    microTimeError('2026-01-02T03:04:05.123Z'),
    'parsing time "2026-01-02T03:04:05.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
  );
  t.equal(microTimeError('2026-01-02T03:04:05Z'), 'parsing time "2026-01-02T03:04:05Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"');
  t.equal(formatMicroTime(new Date('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05.678000Z');
  const d = def('leases');
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'worker', namespace: 'kube-system' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2026-01-02T03:04:05.123Z' } };
  t.throws(() => d.strategy.prepareForCreate!(structuredClone(lease) as KubeObject), {
    code: 400,
    message: 'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-01-02T03:04:05.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
  });
  const good = { ...lease, spec: { ...lease.spec, renewTime: '2026-01-02T03:04:05.123000Z' } };
  t.doesNotThrow(() => d.strategy.prepareForCreate!(structuredClone(good) as KubeObject));
  t.same(errors(d, good), []);
  t.same(errors(d, { ...good, spec: { ...good.spec, leaseDurationSeconds: 0 } }), ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']);
});
