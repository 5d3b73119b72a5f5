// AWS EBS through @aws-sdk/client-ec2. Idempotency, which the original controller lacked (REFERENCE §1):
// - snapshots carry their VolumeSnapshot's uid as a tag set atomically with TagSpecifications, and every creation
//   first looks for that tag (as the EBS CSI driver does, pkg/cloud/cloud.go CreateSnapshot/GetSnapshotByName);
// - volumes are created with a ClientToken derived from the PV name, so a retry after a lost answer gets the
//   same volume back (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html).
// The SDK's own retries are off (maxAttempts 1): CallPacer retries, so a retry of a creation re-checks first.

import { createHash } from 'node:crypto';
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  type Filter,
  type Snapshot,
  type Tag,
  type Volume,
  type VolumeType,
} from '@aws-sdk/client-ec2';
import { CloudError, classifyAwsError } from './cloud-error.js';
import type {
  CloudProvider,
  CreateSnapshotInput,
  CreateVolumeInput,
  SnapshotInfo,
  VolumeInfo,
  VolumeRef,
  VolumeSource,
} from './provider.js';
import { GiB, roundUpToGiB } from './provider.js';
import { CallPacer, TokenBucket, defaultRetryOptions, realClock, type Clock, type RetryOptions } from './rate-limiter.js';
import { parseEbsParameters } from './volume-parameters.js';
import { EBS_CSI_DRIVER, parseEbsVolumeId } from './volume-source.js';

export const TAG_PREFIX = 'kubernetes.io/created-for/snapshot/';
export const TAG_NAMESPACE = `${TAG_PREFIX}namespace`;
export const TAG_NAME = `${TAG_PREFIX}name`;
export const TAG_UID = `${TAG_PREFIX}uid`;
export const TAG_TIMESTAMP = `${TAG_PREFIX}timestamp`;
export const TAG_PV_NAME = 'kubernetes.io/created-for/pv/name';
export const clusterTag = (clusterId: string) => `kubernetes.io/cluster/${clusterId}`;

export interface AwsProviderOptions {
  /** --aws-region; else AWS_REGION / AWS_DEFAULT_REGION; else the region of the first zone seen. */
  region?: string;
  /** EC2 endpoint override (tests, VPC endpoints, other partitions). */
  endpoint?: string;
  /** --cluster-id: tags `kubernetes.io/cluster/<id>=owned`. */
  clusterId?: string;
  /** Static credentials; unset = the SDK's default chain (env, web identity, shared files, instance profile). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  qps?: number;
  burst?: number;
  retry?: Partial<RetryOptions>;
  /** Per-request socket timeout. Default 30 s. */
  requestTimeoutMs?: number;
  /** DescribeVolumes interval while waiting for `available`. Default 2 s. */
  pollIntervalMs?: number;
  /** How long createVolume waits for `available` before a retryable error. Default 5 min. */
  volumeTimeoutMs?: number;
  /** After a CreateSnapshot answer that may hide a success, how long to keep looking for it. Default 10 s. */
  consistencyWaitMs?: number;
  clock?: Clock;
  env?: Record<string, string | undefined>;
}

/** `us-east-1a` → `us-east-1`, `us-west-2-lax-1a` → `us-west-2`. */
export function regionOfZone(zone: string): string | undefined {
  const m = /^([a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d+)/.exec(zone);
  return m?.[1];
}

/** EC2 ClientToken (≤ 64 ASCII characters) for the volume that will back PV `name`. */
export function clientTokenFor(name: string): string {
  return createHash('sha256').update(`volumesnapshot-apiserver/${name}`).digest('hex');
}

const STATE_RANK: Record<string, number> = { completed: 0, pending: 1, error: 2 };

export function snapshotInfoOf(s: Snapshot): SnapshotInfo {
  const id = s.SnapshotId ?? '';
  const info: SnapshotInfo = { id, state: 'pending' };
  switch (s.State) {
    case 'completed':
      info.state = 'ready';
      break;
    case 'pending':
      info.state = 'pending';
      break;
    case 'error':
      info.state = 'error';
      info.message = s.StateMessage || 'the EBS snapshot failed';
      break;
    default:
      // recoverable / recovering (archive tier) and anything new: wait, but say why.
      info.message = `EBS snapshot state "${String(s.State)}"`;
  }
  if (s.Progress) {
    const p = parseInt(s.Progress, 10);
    if (Number.isFinite(p)) info.progress = Math.max(0, Math.min(100, p));
  }
  if (s.VolumeSize !== undefined) info.sizeBytes = s.VolumeSize * GiB;
  if (s.StartTime) info.createdAt = new Date(s.StartTime);
  return info;
}

export class AwsProvider implements CloudProvider {
  readonly name = 'aws' as const;
  readonly pacer: CallPacer;
  private readonly clients = new Map<string, EC2Client>();
  private learnedRegion: string | undefined;
  private readonly clock: Clock;

  constructor(private readonly options: AwsProviderOptions = {}) {
    this.clock = options.clock ?? realClock;
    const retry = { ...defaultRetryOptions, ...options.retry };
    this.pacer = new CallPacer(new TokenBucket(options.qps ?? 0, options.burst ?? 1, this.clock), retry, classifyAwsError, this.clock);
  }

  private configuredRegion(): string | undefined {
    const env = this.options.env ?? process.env;
    return this.options.region || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || undefined;
  }

  private client(zone?: string): EC2Client {
    let region = this.configuredRegion();
    if (!region && zone) {
      region = regionOfZone(zone);
      if (region) this.learnedRegion ??= region;
    }
    region ??= this.learnedRegion;
    if (!region) throw CloudError.terminal('MissingRegion', 'the AWS region is unknown: set --aws-region or AWS_REGION');
    let c = this.clients.get(region);
    if (!c) {
      c = new EC2Client({
        region,
        maxAttempts: 1,
        requestHandler: { requestTimeout: this.options.requestTimeoutMs ?? 30_000, connectionTimeout: 10_000, throwOnRequestTimeout: true },
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
      });
      this.clients.set(region, c);
    }
    return c;
  }

  async createSnapshot(input: CreateSnapshotInput): Promise<SnapshotInfo> {
    const volume = this.ebsVolume(input.volume);
    const tags: Tag[] = [
      { Key: TAG_NAMESPACE, Value: input.tags.namespace },
      { Key: TAG_NAME, Value: input.tags.name },
      { Key: TAG_UID, Value: input.tags.uid },
      { Key: TAG_TIMESTAMP, Value: String(this.clock.now()) },
      { Key: 'Name', Value: `${input.tags.namespace}/${input.tags.name}` },
    ];
    if (this.options.clusterId) tags.push({ Key: clusterTag(this.options.clusterId), Value: 'owned' });
    const client = this.client(volume.zone);
    // Look, then create, as one retried unit: after a lost answer the retry finds the snapshot instead of making a second.
    // DescribeSnapshots is eventually consistent, so after an answer that may hide a success (network error,
    // timeout, 5xx) the look is repeated for a while before concluding that nothing was made.
    let ambiguous = false;
    return this.pacer.withRetry(async () => {
      let existing = await this.findOnce(client, input.tags.uid);
      if (!existing && ambiguous) {
        const deadline = this.clock.now() + (this.options.consistencyWaitMs ?? 10_000);
        while (!existing && this.clock.now() < deadline) {
          await this.clock.sleep(Math.min(this.options.pollIntervalMs ?? 2_000, Math.max(1, deadline - this.clock.now())));
          existing = await this.findOnce(client, input.tags.uid);
        }
      }
      if (existing) return existing;
      try {
        const out = await this.pacer.once(() =>
          client.send(
            new CreateSnapshotCommand({
              VolumeId: volume.volumeId,
              Description: input.description ?? `Created by volumesnapshot-apiserver for ${input.tags.namespace}/${input.tags.name}`,
              TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }],
            }),
          ),
        );
        return snapshotInfoOf(out);
      } catch (err) {
        const cloudErr = classifyAwsError(err);
        // Throttling and 4xx answers mean nothing was done; anything else may have been done.
        if (cloudErr.retryable && !cloudErr.throttled) ambiguous = true;
        throw cloudErr;
      }
    });
  }

  async findSnapshotByUid(uid: string, volume?: VolumeSource): Promise<SnapshotInfo | undefined> {
    const client = this.client(volume?.type === 'aws-ebs' ? this.ebsVolume(volume).zone : undefined);
    return this.pacer.withRetry(() => this.findOnce(client, uid));
  }

  private async findOnce(client: EC2Client, uid: string): Promise<SnapshotInfo | undefined> {
    const filters: Filter[] = [{ Name: `tag:${TAG_UID}`, Values: [uid] }];
    const found: Snapshot[] = [];
    let token: string | undefined;
    do {
      const out = await this.pacer.once(() =>
        client.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: filters, MaxResults: 1000, NextToken: token })),
      );
      found.push(...(out.Snapshots ?? []));
      token = out.NextToken || undefined;
    } while (token);
    if (!found.length) return undefined;
    // Duplicates can only come from an earlier version or another writer; prefer the most useful, then the oldest.
    found.sort(
      (a, b) =>
        (STATE_RANK[a.State ?? ''] ?? 3) - (STATE_RANK[b.State ?? ''] ?? 3) ||
        (a.StartTime?.getTime() ?? 0) - (b.StartTime?.getTime() ?? 0),
    );
    return snapshotInfoOf(found[0]!);
  }

  async getSnapshot(id: string): Promise<SnapshotInfo> {
    return snapshotInfoOf(await this.describeSnapshot(id));
  }

  private async describeSnapshot(id: string, client?: EC2Client): Promise<Snapshot> {
    if (!/^snap-[0-9a-f]+$/.test(id)) throw CloudError.terminal('InvalidSnapshotId', `invalid EBS snapshot ID "${id}"`);
    client ??= this.client();
    const out = await this.pacer.call(() => client.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })));
    const s = out.Snapshots?.[0];
    if (!s) throw CloudError.notFound('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
    return s;
  }

  async deleteSnapshot(id: string): Promise<void> {
    if (!/^snap-[0-9a-f]+$/.test(id)) throw CloudError.terminal('InvalidSnapshotId', `invalid EBS snapshot ID "${id}"`);
    const client = this.client();
    try {
      await this.pacer.call(() => client.send(new DeleteSnapshotCommand({ SnapshotId: id })));
    } catch (err) {
      if (classifyAwsError(err).notFound) return;
      throw err;
    }
  }

  async createVolume(input: CreateVolumeInput): Promise<VolumeInfo> {
    // Parameters are checked with the requested size first, so a bad class fails before any call.
    const requested = parseEbsParameters(input.parameters, roundUpToGiB(input.sizeBytes));
    const zone = requested.zone ?? input.zone;
    if (!zone) throw CloudError.terminal('MissingZone', 'no availability zone for the new volume: set the "zone" parameter');
    const client = this.client(zone);
    const snapshot = await this.describeSnapshot(input.snapshotId, client);
    if (snapshot.State !== 'completed') {
      throw CloudError.terminal('SnapshotNotReady', `snapshot ${input.snapshotId} is ${String(snapshot.State)}, not completed`);
    }
    const sizeGiB = Math.max(roundUpToGiB(input.sizeBytes), snapshot.VolumeSize ?? 0);
    const params = parseEbsParameters(input.parameters, sizeGiB);
    const tags: Tag[] = [
      { Key: TAG_PV_NAME, Value: input.name },
      { Key: 'Name', Value: input.name },
    ];
    if (this.options.clusterId) tags.push({ Key: clusterTag(this.options.clusterId), Value: 'owned' });
    const created = await this.pacer.call(() =>
      client.send(
        new CreateVolumeCommand({
          ClientToken: clientTokenFor(input.name),
          SnapshotId: input.snapshotId,
          AvailabilityZone: zone,
          Size: sizeGiB,
          VolumeType: params.volumeType as VolumeType,
          Iops: params.iops,
          Throughput: params.throughput,
          Encrypted: params.encrypted,
          KmsKeyId: params.kmsKeyId,
          TagSpecifications: [{ ResourceType: 'volume', Tags: tags }],
        }),
      ),
    );
    const volumeId = created.VolumeId;
    if (!volumeId) throw new CloudError({ code: 'InvalidResponse', message: 'CreateVolume returned no VolumeId', retryable: true });
    const fsType = params.fsType ?? input.fsType;
    const volume = await this.waitAvailable(client, volumeId);
    return this.volumeInfoOf(volume, input.sourceKind ?? 'in-tree', fsType);
  }

  private async waitAvailable(client: EC2Client, volumeId: string): Promise<Volume> {
    const deadline = this.clock.now() + (this.options.volumeTimeoutMs ?? 300_000);
    while (true) {
      const v = await this.describeVolume(client, volumeId);
      if (v.State === 'available' || v.State === 'in-use') return v;
      if (v.State === 'error') throw CloudError.terminal('VolumeCreationFailed', `volume ${volumeId} failed to create (state "error")`);
      if (v.State === 'deleting' || v.State === 'deleted') {
        throw CloudError.terminal('VolumeDeleted', `volume ${volumeId} is ${v.State}`);
      }
      if (this.clock.now() >= deadline) {
        throw new CloudError({ code: 'VolumeNotReady', message: `volume ${volumeId} is still "${String(v.State)}"`, retryable: true });
      }
      await this.clock.sleep(this.options.pollIntervalMs ?? 2_000);
    }
  }

  private async describeVolume(client: EC2Client, volumeId: string): Promise<Volume> {
    const out = await this.pacer.call(() => client.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] })));
    const v = out.Volumes?.[0];
    if (!v) throw CloudError.notFound('InvalidVolume.NotFound', `The volume '${volumeId}' does not exist.`);
    return v;
  }

  private volumeInfoOf(v: Volume, sourceKind: 'in-tree' | 'csi', fsType?: string): VolumeInfo {
    const state = v.State === 'available' || v.State === 'in-use' ? 'available' : v.State === 'creating' ? 'creating' : 'error';
    const info: VolumeInfo = {
      kind: sourceKind === 'csi' ? 'csi' : 'awsElasticBlockStore',
      volumeId: v.VolumeId ?? '',
      sizeBytes: (v.Size ?? 0) * GiB,
      state,
    };
    if (state === 'error') info.message = `volume state "${String(v.State)}"`;
    if (v.AvailabilityZone) info.zone = v.AvailabilityZone;
    if (sourceKind === 'csi') info.driver = EBS_CSI_DRIVER;
    if (fsType) info.fsType = fsType;
    return info;
  }

  async getVolume(ref: VolumeRef): Promise<VolumeInfo> {
    const parsed = parseEbsVolumeId(ref.volumeId);
    const client = this.client(parsed.zone ?? ref.zone);
    return this.volumeInfoOf(await this.describeVolume(client, parsed.volumeId), 'in-tree');
  }

  async deleteVolume(ref: VolumeRef): Promise<void> {
    const parsed = parseEbsVolumeId(ref.volumeId);
    const client = this.client(parsed.zone ?? ref.zone);
    try {
      await this.pacer.call(() => client.send(new DeleteVolumeCommand({ VolumeId: parsed.volumeId })));
    } catch (err) {
      if (classifyAwsError(err).notFound) return;
      throw err;
    }
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }

  private ebsVolume(source: VolumeSource): { volumeId: string; zone?: string } {
    if (source.type !== 'aws-ebs') throw CloudError.terminal('UnsupportedVolumeSource', `the aws provider cannot snapshot a ${source.type} volume`);
    const parsed = parseEbsVolumeId(source.volumeId);
    const zone = parsed.zone ?? source.zone;
    return zone ? { volumeId: parsed.volumeId, zone } : { volumeId: parsed.volumeId };
  }
}
