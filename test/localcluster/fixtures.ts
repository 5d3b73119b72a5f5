// Builders of core/v1 objects for the local-cluster tests: stored-looking PVs, PVCs and classes.
import type { KubeObject } from '../../src/apimachinery/resource-definition.js';

export interface PvOptions {
  capacity?: string;
  accessModes?: string[];
  storageClassName?: string;
  phase?: string;
  claimRef?: Record<string, string>;
  labels?: Record<string, string>;
  volumeMode?: string;
  reclaim?: string;
  annotations?: Record<string, string>;
  uid?: string;
}

export function pv(name: string, o: PvOptions = {}): KubeObject {
  const spec: Record<string, unknown> = {
    capacity: { storage: o.capacity ?? '1Gi' },
    accessModes: o.accessModes ?? ['ReadWriteOnce'],
    persistentVolumeReclaimPolicy: o.reclaim ?? 'Retain',
    volumeMode: o.volumeMode ?? 'Filesystem',
    hostPath: { path: `/tmp/${name}` },
  };
  if (o.storageClassName !== undefined) spec.storageClassName = o.storageClassName;
  if (o.claimRef) spec.claimRef = o.claimRef;
  const metadata: KubeObject['metadata'] = { name, uid: o.uid ?? `uid-${name}`, resourceVersion: '1' };
  if (o.labels) metadata.labels = o.labels;
  if (o.annotations) metadata.annotations = o.annotations;
  return { apiVersion: 'v1', kind: 'PersistentVolume', metadata, spec, status: { phase: o.phase ?? 'Available' } };
}

export interface PvcOptions {
  request?: string;
  accessModes?: string[];
  storageClassName?: string;
  volumeName?: string;
  selector?: Record<string, unknown>;
  volumeMode?: string;
  annotations?: Record<string, string>;
  phase?: string;
  uid?: string;
  namespace?: string;
}

export function pvc(name: string, o: PvcOptions = {}): KubeObject {
  const spec: Record<string, unknown> = {
    accessModes: o.accessModes ?? ['ReadWriteOnce'],
    resources: { requests: { storage: o.request ?? '1Gi' } },
    volumeMode: o.volumeMode ?? 'Filesystem',
  };
  if (o.storageClassName !== undefined) spec.storageClassName = o.storageClassName;
  if (o.volumeName !== undefined) spec.volumeName = o.volumeName;
  if (o.selector) spec.selector = o.selector;
  const metadata: KubeObject['metadata'] = { name, namespace: o.namespace ?? 'default', uid: o.uid ?? `uid-${name}`, resourceVersion: '1' };
  if (o.annotations) metadata.annotations = o.annotations;
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata, spec, status: { phase: o.phase ?? 'Pending' } };
}

export const claimRefTo = (claim: KubeObject, withUid = true): Record<string, string> => {
  const ref: Record<string, string> = { kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace ?? '', name: claim.metadata.name, apiVersion: 'v1' };
  if (withUid) ref.uid = String(claim.metadata.uid);
  return ref;
};

export const noopLog = { info: () => {}, warn: () => {} };
