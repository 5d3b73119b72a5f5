// StorageClass parameters of a restore, checked before any cloud call. Keys are matched case-insensitively, as
// the in-tree provisioners did (kubernetes/pkg/volume/awsebs/aws_util.go, gcepd/gce_util.go); an unknown key is a
// terminal error that names it.

import { CloudError } from './cloud-error.js';

export type EbsVolumeType = 'gp2' | 'gp3' | 'io1' | 'io2' | 'sc1' | 'st1' | 'standard';
export const EBS_VOLUME_TYPES: readonly EbsVolumeType[] = ['gp2', 'gp3', 'io1', 'io2', 'sc1', 'st1', 'standard'];

export interface EbsVolumeOptions {
  volumeType: EbsVolumeType;
  iops?: number;
  throughput?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  zone?: string;
  fsType?: string;
}

// Per-type IOPS limits (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-volume-types.html).
const IOPS_LIMITS: Partial<Record<EbsVolumeType, { min: number; max: number; perGiB: number }>> = {
  io1: { min: 100, max: 64_000, perGiB: 50 },
  io2: { min: 100, max: 256_000, perGiB: 1000 },
  gp3: { min: 3_000, max: 16_000, perGiB: 500 },
};
const GP3_THROUGHPUT = { min: 125, max: 1_000 };

function invalid(message: string): CloudError {
  return CloudError.terminal('InvalidParameter', message);
}

function positiveInt(key: string, value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) throw invalid(`parameter "${key}": "${value}" is not a positive integer`);
  return Number(value);
}

function bool(key: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(`parameter "${key}": "${value}" is not a boolean (true or false)`);
}

/** EBS rules for a volume of `sizeGiB`: type, iops (explicit or iopsPerGB × size, clamped), throughput, encryption. */
export function parseEbsParameters(parameters: Record<string, string>, sizeGiB: number): EbsVolumeOptions {
  let volumeType: EbsVolumeType = 'gp2';
  let iops: number | undefined;
  let iopsPerGB: number | undefined;
  let iopsKey = '';
  let throughput: number | undefined;
  let encrypted: boolean | undefined;
  let encryptedKey = '';
  let kmsKeyId: string | undefined;
  let zone: string | undefined;
  let fsType: string | undefined;
  for (const [key, value] of Object.entries(parameters)) {
    switch (key.toLowerCase()) {
      case 'type': {
        const t = value.trim().toLowerCase();
        if (!(EBS_VOLUME_TYPES as readonly string[]).includes(t)) {
          throw invalid(`parameter "${key}": unsupported EBS volume type "${value}"; supported: ${EBS_VOLUME_TYPES.join(', ')}`);
        }
        volumeType = t as EbsVolumeType;
        break;
      }
      case 'iopspergb':
        iopsPerGB = positiveInt(key, value);
        iopsKey = key;
        break;
      case 'iops':
        iops = positiveInt(key, value);
        break;
      case 'throughput':
        throughput = positiveInt(key, value);
        break;
      case 'encrypted':
        encrypted = bool(key, value);
        encryptedKey = key;
        break;
      case 'kmskeyid':
        kmsKeyId = value.trim() || undefined;
        break;
      case 'zone':
        zone = value.trim() || undefined;
        break;
      case 'fstype':
      case 'csi.storage.k8s.io/fstype':
        fsType = value.trim() || undefined;
        break;
      default:
        throw invalid(`unknown StorageClass parameter "${key}" for AWS EBS`);
    }
  }
  const limits = IOPS_LIMITS[volumeType];
  if (iops !== undefined && iopsPerGB !== undefined) throw invalid(`parameters "iops" and "${iopsKey}" are mutually exclusive`);
  if ((iops !== undefined || iopsPerGB !== undefined) && !limits) {
    throw invalid(`parameter "${iops !== undefined ? 'iops' : iopsKey}" is not supported for volume type "${volumeType}"`);
  }
  if (limits && iopsPerGB !== undefined) {
    // As the in-tree provisioner: IOPS = size × iopsPerGB, clamped to what the type allows.
    iops = Math.min(limits.max, Math.max(limits.min, sizeGiB * Math.min(iopsPerGB, limits.perGiB)));
  }
  if ((volumeType === 'io1' || volumeType === 'io2') && iops === undefined) {
    throw invalid(`volume type "${volumeType}" needs "iops" or "iopsPerGB"`);
  }
  if (limits && iops !== undefined && (iops < limits.min || iops > limits.max)) {
    throw invalid(`parameter "iops": ${iops} is out of range ${limits.min}–${limits.max} for volume type "${volumeType}"`);
  }
  if (throughput !== undefined) {
    if (volumeType !== 'gp3') throw invalid(`parameter "throughput" is only supported for volume type "gp3"`);
    if (throughput < GP3_THROUGHPUT.min || throughput > GP3_THROUGHPUT.max) {
      throw invalid(`parameter "throughput": ${throughput} is out of range ${GP3_THROUGHPUT.min}–${GP3_THROUGHPUT.max} MiB/s`);
    }
  }
  if (kmsKeyId !== undefined && encrypted === false) {
    throw invalid(`parameter "kmsKeyId" needs encryption, but "${encryptedKey}" is "false"`);
  }
  const out: EbsVolumeOptions = { volumeType, encrypted: encrypted ?? kmsKeyId !== undefined };
  if (iops !== undefined) out.iops = iops;
  if (throughput !== undefined) out.throughput = throughput;
  if (kmsKeyId !== undefined) out.kmsKeyId = kmsKeyId;
  if (zone !== undefined) out.zone = zone;
  if (fsType !== undefined) out.fsType = fsType;
  return out;
}

export type PdDiskType = 'pd-standard' | 'pd-ssd' | 'pd-balanced';
export const PD_DISK_TYPES: readonly PdDiskType[] = ['pd-standard', 'pd-ssd', 'pd-balanced'];

export interface PdDiskOptions {
  diskType: PdDiskType;
  zone?: string;
  fsType?: string;
}

/** GCE PD rules: type, zone, replication-type (only "none": regional disks are not restored by this server). */
export function parsePdParameters(parameters: Record<string, string>): PdDiskOptions {
  let diskType: PdDiskType = 'pd-standard';
  let zone: string | undefined;
  let fsType: string | undefined;
  for (const [key, value] of Object.entries(parameters)) {
    switch (key.toLowerCase()) {
      case 'type': {
        const t = value.trim().toLowerCase();
        if (!(PD_DISK_TYPES as readonly string[]).includes(t)) {
          throw invalid(`parameter "${key}": unsupported GCE PD type "${value}"; supported: ${PD_DISK_TYPES.join(', ')}`);
        }
        diskType = t as PdDiskType;
        break;
      }
      case 'zone':
        zone = value.trim() || undefined;
        break;
      case 'replication-type': {
        const r = value.trim().toLowerCase();
        if (r !== 'none') throw invalid(`parameter "${key}": "${value}" is not supported; only "none"`);
        break;
      }
      case 'fstype':
      case 'csi.storage.k8s.io/fstype':
        fsType = value.trim() || undefined;
        break;
      default:
        throw invalid(`unknown StorageClass parameter "${key}" for GCE PD`);
    }
  }
  const out: PdDiskOptions = { diskType };
  if (zone !== undefined) out.zone = zone;
  if (fsType !== undefined) out.fsType = fsType;
  return out;
}

/** hostpath takes no parameters but a file system type, which it ignores. */
export function parseHostPathParameters(parameters: Record<string, string>): void {
  for (const key of Object.keys(parameters)) {
    const k = key.toLowerCase();
    if (k !== 'fstype' && k !== 'csi.storage.k8s.io/fstype') throw invalid(`unknown StorageClass parameter "${key}" for hostpath`);
  }
}
