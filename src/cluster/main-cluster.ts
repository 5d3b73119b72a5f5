// What the embedded worker needs from the main cluster (PVCs, PVs, StorageClasses, Events, Leases), as plain JSON
// objects, and its implementation over @kubernetes/client-node 1.x. In standalone mode the same code talks to the
// server's own local cluster through the generated kubeconfig: nothing here knows which cluster it reaches.

import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  StorageV1Api,
  makeInformer,
  type CoreV1Event,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Lease,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from '@kubernetes/client-node';

export interface ClusterObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export interface ClusterObject {
  apiVersion?: string;
  kind?: string;
  metadata: ClusterObjectMeta;
}

export interface ObjectRef {
  kind?: string;
  apiVersion?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface PersistentVolumeClaim extends ClusterObject {
  spec?: {
    accessModes?: string[];
    resources?: { requests?: Record<string, string> };
    storageClassName?: string;
    volumeName?: string;
    volumeMode?: string;
    dataSource?: { apiGroup?: string; kind?: string; name?: string };
    dataSourceRef?: { apiGroup?: string; kind?: string; name?: string };
    selector?: unknown;
  };
  status?: { phase?: string; capacity?: Record<string, string>; accessModes?: string[] };
}

export interface PersistentVolume extends ClusterObject {
  spec?: {
    capacity?: Record<string, string>;
    accessModes?: string[];
    claimRef?: ObjectRef;
    persistentVolumeReclaimPolicy?: string;
    storageClassName?: string;
    volumeMode?: string;
    mountOptions?: string[];
    nodeAffinity?: unknown;
    awsElasticBlockStore?: { volumeID: string; fsType?: string; partition?: number; readOnly?: boolean };
    gcePersistentDisk?: { pdName: string; fsType?: string; partition?: number; readOnly?: boolean };
    csi?: { driver: string; volumeHandle: string; fsType?: string; volumeAttributes?: Record<string, string> };
    hostPath?: { path: string; type?: string };
    [source: string]: unknown;
  };
  status?: { phase?: string; message?: string; reason?: string };
}

export interface StorageClass extends ClusterObject {
  provisioner: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: string;
  mountOptions?: string[];
  volumeBindingMode?: string;
  allowedTopologies?: unknown;
}

export interface ClusterEvent extends ClusterObject {
  involvedObject: ObjectRef;
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
}

/** A Lease's spec in the terms leader election uses; times are Dates, written as MicroTime. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions?: number;
}

export interface Lease {
  namespace: string;
  name: string;
  resourceVersion: string;
  record: LeaseRecord;
}

export interface InformerHandlers<T> {
  /** Added or changed (also once for every object of each relist). */
  onUpsert(obj: T): void;
  onDelete(obj: T): void;
  /** The watch failed; the informer restarts itself after a pause. */
  onError?(err: unknown): void;
}

export interface RunningInformer<T> {
  /** The informer's cache (empty until the first list has arrived). */
  list(): T[];
  stop(): Promise<void>;
}

export interface MainCluster {
  getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  getPersistentVolume(name: string): Promise<PersistentVolume | undefined>;
  getStorageClass(name: string): Promise<StorageClass | undefined>;
  listPersistentVolumes(): Promise<PersistentVolume[]>;
  /** Resolves once the first list has been delivered. */
  informPersistentVolumeClaims(handlers: InformerHandlers<PersistentVolumeClaim>): Promise<RunningInformer<PersistentVolumeClaim>>;
  informPersistentVolumes(handlers: InformerHandlers<PersistentVolume>): Promise<RunningInformer<PersistentVolume>>;
  /** Throws ClusterError 409 AlreadyExists when a PV of that name exists. */
  createPersistentVolume(pv: PersistentVolume): Promise<PersistentVolume>;
  /** Already gone = success. */
  deletePersistentVolume(name: string, preconditionUid?: string): Promise<void>;
  /** PUT of the whole claim (annotations); 409 when it changed meanwhile. */
  replacePersistentVolumeClaim(pvc: PersistentVolumeClaim): Promise<PersistentVolumeClaim>;
  createEvent(event: ClusterEvent): Promise<ClusterEvent>;
  /** PUT; 409/404 tell the recorder to start over with a new Event. */
  replaceEvent(event: ClusterEvent): Promise<ClusterEvent>;
  getLease(namespace: string, name: string): Promise<Lease | undefined>;
  /** 409 AlreadyExists = somebody else created it first. */
  createLease(namespace: string, name: string, record: LeaseRecord): Promise<Lease>;
  /** PUT guarded by resourceVersion: 409 Conflict = lost the race. */
  updateLease(lease: Lease, record: LeaseRecord): Promise<Lease>;
}

/** A failed call to the main cluster, with the HTTP code and the Status reason when there was one. */
export class ClusterError extends Error {
  readonly code: number;
  readonly reason: string | undefined;
  constructor(code: number, message: string, reason?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ClusterError';
    this.code = code;
    this.reason = reason;
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof ClusterError && err.code === 404;
export const isConflict = (err: unknown): boolean => err instanceof ClusterError && err.code === 409;
export const isAlreadyExists = (err: unknown): boolean =>
  err instanceof ClusterError && err.code === 409 && err.reason === 'AlreadyExists';

export function toClusterError(err: unknown): ClusterError {
  if (err instanceof ClusterError) return err;
  if (err instanceof ApiException) {
    let reason: string | undefined;
    let message = `HTTP ${err.code}`;
    const body: unknown = typeof err.body === 'string' ? safeParse(err.body) : err.body;
    if (body && typeof body === 'object') {
      const status = body as { reason?: unknown; message?: unknown };
      if (typeof status.reason === 'string') reason = status.reason;
      if (typeof status.message === 'string') message = status.message;
    }
    return new ClusterError(err.code, message, reason, err);
  }
  return new ClusterError(0, err instanceof Error ? err.message : String(err), undefined, err);
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/**
 * client-node deserialises into model classes (Dates for times); the worker's rules read plain JSON, so every
 * object crossing this boundary is normalised the way it looked on the wire.
 */
function plain<T>(obj: unknown): T {
  return JSON.parse(JSON.stringify(obj)) as T;
}

/** metav1.MicroTime: exactly six fractional digits (kube-apiserver refuses `….123Z`). */
export function formatMicroTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toClusterError(err);
  }
}

async function orUndefined<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call(fn);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export interface ClientNodeMainClusterOptions {
  /** Pause before an informer restarts after its watch failed (client-go's reflector backs off similarly). */
  informerRestartMs?: number;
}

export class ClientNodeMainCluster implements MainCluster {
  private readonly core: CoreV1Api;
  private readonly storage: StorageV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly restartMs: number;

  constructor(
    private readonly kc: KubeConfig,
    options: ClientNodeMainClusterOptions = {},
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.storage = kc.makeApiClient(StorageV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.restartMs = options.informerRestartMs ?? 2000;
  }

  /** From a kubeconfig file, or the in-cluster configuration when no file is given. */
  static fromKubeconfig(file?: string, options?: ClientNodeMainClusterOptions): ClientNodeMainCluster {
    const kc = new KubeConfig();
    if (file) kc.loadFromFile(file);
    else kc.loadFromCluster();
    return new ClientNodeMainCluster(kc, options);
  }

  async getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    const r = await orUndefined(() => this.core.readNamespacedPersistentVolumeClaim({ name, namespace }));
    return r && plain<PersistentVolumeClaim>(r);
  }

  async getPersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    const r = await orUndefined(() => this.core.readPersistentVolume({ name }));
    return r && plain<PersistentVolume>(r);
  }

  async getStorageClass(name: string): Promise<StorageClass | undefined> {
    const r = await orUndefined(() => this.storage.readStorageClass({ name }));
    return r && plain<StorageClass>(r);
  }

  async listPersistentVolumes(): Promise<PersistentVolume[]> {
    const r = await call(() => this.core.listPersistentVolume());
    return r.items.map((pv) => plain<PersistentVolume>(pv));
  }

  informPersistentVolumeClaims(handlers: InformerHandlers<PersistentVolumeClaim>): Promise<RunningInformer<PersistentVolumeClaim>> {
    return this.inform('/api/v1/persistentvolumeclaims', () => this.core.listPersistentVolumeClaimForAllNamespaces(), handlers);
  }

  informPersistentVolumes(handlers: InformerHandlers<PersistentVolume>): Promise<RunningInformer<PersistentVolume>> {
    return this.inform('/api/v1/persistentvolumes', () => this.core.listPersistentVolume(), handlers);
  }

  async createPersistentVolume(pv: PersistentVolume): Promise<PersistentVolume> {
    const r = await call(() => this.core.createPersistentVolume({ body: pv as unknown as V1PersistentVolume }));
    return plain<PersistentVolume>(r);
  }

  async deletePersistentVolume(name: string, preconditionUid?: string): Promise<void> {
    await orUndefined(() =>
      this.core.deletePersistentVolume({ name, body: preconditionUid ? { preconditions: { uid: preconditionUid } } : undefined }),
    );
  }

  async replacePersistentVolumeClaim(pvc: PersistentVolumeClaim): Promise<PersistentVolumeClaim> {
    const r = await call(() =>
      this.core.replaceNamespacedPersistentVolumeClaim({
        name: pvc.metadata.name!,
        namespace: pvc.metadata.namespace!,
        body: pvc as unknown as V1PersistentVolumeClaim,
      }),
    );
    return plain<PersistentVolumeClaim>(r);
  }

  async createEvent(event: ClusterEvent): Promise<ClusterEvent> {
    const namespace = event.metadata.namespace ?? 'default';
    const r = await call(() => this.core.createNamespacedEvent({ namespace, body: event as unknown as CoreV1Event }));
    return plain<ClusterEvent>(r);
  }

  async replaceEvent(event: ClusterEvent): Promise<ClusterEvent> {
    const namespace = event.metadata.namespace ?? 'default';
    const r = await call(() =>
      this.core.replaceNamespacedEvent({ name: event.metadata.name!, namespace, body: event as unknown as CoreV1Event }),
    );
    return plain<ClusterEvent>(r);
  }

  async getLease(namespace: string, name: string): Promise<Lease | undefined> {
    const r = await orUndefined(() => this.coordination.readNamespacedLease({ name, namespace }));
    return r && leaseOf(r);
  }

  async createLease(namespace: string, name: string, record: LeaseRecord): Promise<Lease> {
    const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: leaseSpec(record) };
    return leaseOf(await call(() => this.coordination.createNamespacedLease({ namespace, body: body as unknown as V1Lease })));
  }

  async updateLease(lease: Lease, record: LeaseRecord): Promise<Lease> {
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: lease.name, namespace: lease.namespace, resourceVersion: lease.resourceVersion },
      spec: leaseSpec(record),
    };
    return leaseOf(
      await call(() =>
        this.coordination.replaceNamespacedLease({ name: lease.name, namespace: lease.namespace, body: body as unknown as V1Lease }),
      ),
    );
  }

  private async inform<T extends ClusterObject>(
    path: string,
    list: () => Promise<KubernetesListObject<KubernetesObject>>,
    handlers: InformerHandlers<T>,
  ): Promise<RunningInformer<T>> {
    const informer = makeInformer<KubernetesObject>(this.kc, path, list);
    let stopped = false;
    let restart: NodeJS.Timeout | undefined;
    informer.on('add', (o) => handlers.onUpsert(plain<T>(o)));
    informer.on('update', (o) => handlers.onUpsert(plain<T>(o)));
    informer.on('delete', (o) => handlers.onDelete(plain<T>(o)));
    // client-node's ListWatch stops on a watch error: start it again (it relists) after a pause.
    informer.on('error', (err: unknown) => {
      if (stopped) return;
      handlers.onError?.(err);
      restart = setTimeout(() => {
        if (!stopped) informer.start().catch((e: unknown) => handlers.onError?.(e));
      }, this.restartMs);
      restart.unref?.();
    });
    await informer.start();
    return {
      list: () => informer.list().map((o) => plain<T>(o)),
      stop: async () => {
        stopped = true;
        if (restart) clearTimeout(restart);
        await informer.stop();
      },
    };
  }
}

function leaseSpec(record: LeaseRecord): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  if (record.holderIdentity !== undefined) spec.holderIdentity = record.holderIdentity;
  if (record.leaseDurationSeconds !== undefined) spec.leaseDurationSeconds = record.leaseDurationSeconds;
  // Strings pass through client-node's serializer untouched (V1MicroTime is not in its type map); a Date would be
  // written with 3 fractional digits.
  if (record.acquireTime) spec.acquireTime = formatMicroTime(record.acquireTime);
  if (record.renewTime) spec.renewTime = formatMicroTime(record.renewTime);
  if (record.leaseTransitions !== undefined) spec.leaseTransitions = record.leaseTransitions;
  return spec;
}

function leaseOf(l: V1Lease): Lease {
  const p = plain<{ metadata: ClusterObjectMeta; spec?: Record<string, unknown> }>(l);
  const spec = p.spec ?? {};
  const date = (v: unknown): Date | undefined => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v) : undefined);
  const record: LeaseRecord = {};
  if (typeof spec.holderIdentity === 'string') record.holderIdentity = spec.holderIdentity;
  if (typeof spec.leaseDurationSeconds === 'number') record.leaseDurationSeconds = spec.leaseDurationSeconds;
  const acquire = date(spec.acquireTime);
  if (acquire) record.acquireTime = acquire;
  const renew = date(spec.renewTime);
  if (renew) record.renewTime = renew;
  if (typeof spec.leaseTransitions === 'number') record.leaseTransitions = spec.leaseTransitions;
  return { namespace: p.metadata.namespace!, name: p.metadata.name!, resourceVersion: p.metadata.resourceVersion!, record };
}
