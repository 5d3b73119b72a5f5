// Turns a plain description of a PV's volume source into the provider's VolumeSource. The worker reads the
// raw PV; this file only knows the shapes of volume IDs and CSI handles.

import { CloudError } from './cloud-error.js';
import type { VolumeSource } from './provider.js';

export const EBS_CSI_DRIVER = 'ebs.csi.aws.com';
export const PD_CSI_DRIVER = 'pd.csi.storage.gke.io';

export type PlainVolumeSource =
  /** In-tree `awsElasticBlockStore.volumeID`: `aws://<zone>/vol-…`, `aws:///vol-…` or `vol-…`. */
  | { kind: 'awsElasticBlockStore'; volumeID: string; zone?: string }
  /** In-tree `gcePersistentDisk.pdName`; zone from the PV's zone label. */
  | { kind: 'gcePersistentDisk'; pdName: string; zone?: string }
  | { kind: 'csi'; driver: string; volumeHandle: string; zone?: string }
  | { kind: 'hostPath'; path: string };

const EBS_VOLUME_ID = /^vol-[0-9a-f]+$/;
// https://github.com/kubernetes-sigs/gcp-compute-persistent-disk-csi-driver/blob/master/pkg/common/utils.go (VolumeIDToKey)
const PD_HANDLE = /^projects\/([^/]+)\/zones\/([^/]+)\/disks\/([^/]+)$/;

/** Parses an in-tree EBS volume ID (kubernetes/pkg/volume/awsebs: `aws://zone/vol-id`, `aws:///vol-id` or bare). */
export function parseEbsVolumeId(volumeID: string): { volumeId: string; zone?: string } {
  let id = volumeID.trim();
  let zone: string | undefined;
  if (id.startsWith('aws://')) {
    const rest = id.slice('aws://'.length);
    const slash = rest.indexOf('/');
    if (slash < 0) throw CloudError.terminal('InvalidVolumeSource', `invalid AWS volume ID "${volumeID}"`);
    zone = rest.slice(0, slash) || undefined;
    id = rest.slice(slash + 1);
  }
  if (!EBS_VOLUME_ID.test(id)) throw CloudError.terminal('InvalidVolumeSource', `invalid AWS volume ID "${volumeID}"`);
  return zone ? { volumeId: id, zone } : { volumeId: id };
}

export function toVolumeSource(source: PlainVolumeSource): VolumeSource {
  switch (source.kind) {
    case 'awsElasticBlockStore': {
      const parsed = parseEbsVolumeId(source.volumeID);
      const zone = parsed.zone ?? source.zone;
      return zone ? { type: 'aws-ebs', volumeId: parsed.volumeId, zone } : { type: 'aws-ebs', volumeId: parsed.volumeId };
    }
    case 'gcePersistentDisk': {
      if (!source.zone) throw CloudError.terminal('InvalidVolumeSource', `GCE PD "${source.pdName}" has no zone`);
      return { type: 'gce-pd', disk: source.pdName, zone: source.zone };
    }
    case 'csi': {
      if (source.driver === EBS_CSI_DRIVER) {
        const parsed = parseEbsVolumeId(source.volumeHandle);
        const zone = parsed.zone ?? source.zone;
        return zone ? { type: 'aws-ebs', volumeId: parsed.volumeId, zone } : { type: 'aws-ebs', volumeId: parsed.volumeId };
      }
      if (source.driver === PD_CSI_DRIVER) {
        const m = PD_HANDLE.exec(source.volumeHandle);
        if (!m) throw CloudError.terminal('InvalidVolumeSource', `invalid GCE PD CSI volume handle "${source.volumeHandle}"`);
        return { type: 'gce-pd', project: m[1], zone: m[2]!, disk: m[3]! };
      }
      throw CloudError.terminal('UnsupportedVolumeSource', `CSI driver "${source.driver}" is not supported`);
    }
    case 'hostPath':
      return { type: 'hostpath', path: source.path };
  }
}
