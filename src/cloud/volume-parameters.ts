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

/** One of `allowed`, matched case-insensitively; `kind` names the set in the error ("EBS volume type"). */
function oneOf<T extends string>(key: string, value: string, allowed: readonly T[], kind: string): T {
  const v = value.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(v)) throw invalid(`parameter "${key}": unsupported ${kind} "${value}"; supported: ${allowed.join(', ')}`);
  return v as T;
}

/** A free-text value; blank counts as not given. */
function text(value: string): string | undefined {
  return value.trim() || undefined;
}

/** The key as the switches below match it: lower case, with CSI's spelling of the file system type folded into "fstype". */
function parameterName(key: string): string {
  const k = key.toLowerCase();
  return k === 'csi.storage.k8s.io/fstype' ? 'fstype' : k;
}

function unknownParameter(key: string, provider: string): CloudError {
  return invalid(`unknown StorageClass parameter "${key}" for ${provider}`);
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
    switch (parameterName(key)) {
      case 'type':
        volumeType = oneOf(key, value, EBS_VOLUME_TYPES, 'EBS volume type');
        break;
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
        kmsKeyId = text(value);
        break;
      case 'zone':
        zone = text(value);
        break;
      case 'fstype':
        fsType = text(value);
        break;
      default:
        throw unknownParameter(key, 'AWS EBS');
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
    switch (parameterName(key)) {
      case 'type':
        diskType = oneOf(key, value, PD_DISK_TYPES, 'GCE PD type');
        break;
      case 'zone':
        zone = text(value);
        break;
      case 'replication-type': {
        const r = value.trim().toLowerCase();
        if (r !== 'none') throw invalid(`parameter "${key}": "${value}" is not supported; only "none"`);
        break;
      }
      case 'fstype':
        fsType = text(value);
        break;
      default:
        throw unknownParameter(key, 'GCE PD');
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
    if (parameterName(key) !== 'fstype') throw unknownParameter(key, 'hostpath');
  }
}
