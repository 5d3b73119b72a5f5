// A worker process for the crash tests: the test bed (Registry over a SQLite file, local cluster, API plugin on
// 127.0.0.1) plus the worker with the AWS provider against the EC2 fake of the parent. With CRASH_AT it kills
// itself with SIGKILL right after that point, as a crashing node would.
//   node worker-child.js <store.db> <ec2 url> [after-cloud-create|after-data|mid-delete]

import { AwsProvider } from '../../src/cloud/aws.js';
import { createWorker } from '../../src/controller/worker.js';
import type { CloudProvider } from '../../src/cloud/index.js';
import { quietLog, startBed, VSD } from './bed.js';

const [storePath, ec2Url, crashAt] = process.argv.slice(2) as [string, string, string | undefined];

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

const bed = await startBed({ teardown: () => undefined }, { storePath });
const aws = new AwsProvider({
  region: 'us-east-1',
  endpoint: ec2Url,
  clusterId: 'c1',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, throttlePauseMs: 5 },
  pollIntervalMs: 10,
  requestTimeoutMs: 2000,
});
const cloud: CloudProvider = Object.create(aws) as CloudProvider;
cloud.createSnapshot = async (input) => {
  const r = await aws.createSnapshot(input);
  if (crashAt === 'after-cloud-create') die();
  return r;
};
cloud.deleteSnapshot = async (id) => {
  await aws.deleteSnapshot(id);
  if (crashAt === 'mid-delete') die();
};
const create = bed.registry.create.bind(bed.registry);
bed.registry.create = async (ref, body, options) => {
  const r = await create(ref, body, options);
  if (crashAt === 'after-data' && ref === VSD) die();
  return r;
};
const worker = createWorker({
  registry: bed.registry,
  cluster: bed.cluster,
  cloud,
  workerThreads: 2,
  resyncPeriodMs: 0,
  log: quietLog,
  baseDelayMs: 20,
  maxDelayMs: 200,
});
await worker.start();
process.stdout.write(JSON.stringify({ address: bed.address }) + '\n');
process.on('SIGTERM', () => {
  void worker.stop().then(() => process.exit(0));
});
