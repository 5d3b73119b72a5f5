// The worker's command-line flags, shaped like src/config.ts's FlagSpec (so `serveFlags` can take them as they are)
// and named as kube-controller-manager / the CSI snapshot controller name theirs.

export interface WorkerFlagValues {
  workerThreads: number;
  leaderElect: boolean;
  leaderElectLeaseDurationSeconds: number;
  leaderElectRenewDeadlineSeconds: number;
  leaderElectRetryPeriodSeconds: number;
  leaderElectResourceNamespace: string;
  leaderElectResourceName: string;
  resyncPeriodSeconds: number;
  worker: boolean;
}

interface WorkerFlagSpec {
  name: string;
  key: keyof WorkerFlagValues;
  type: 'string' | 'int' | 'bool' | 'duration-seconds';
  default: string | number | boolean;
  help: string;
  check?: (value: unknown) => string | undefined;
}

const positive = (v: unknown) => (Number(v) > 0 ? undefined : 'must be greater than 0');

export const workerFlags: WorkerFlagSpec[] = [
  {
    name: 'worker',
    key: 'worker',
    type: 'bool',
    default: true,
    help: 'Run the embedded snapshot worker (snapshotter and restore provisioner). With --leader-elect only the elected replica runs it.',
  },
  {
    name: 'worker-threads',
    key: 'workerThreads',
    type: 'int',
    default: 10,
    check: (v) => (Number(v) >= 1 && Number(v) <= 1000 ? undefined : 'must be between 1 and 1000'),
    help: 'Number of snapshots and claims the worker processes at once.',
  },
  {
    name: 'resync-period',
    key: 'resyncPeriodSeconds',
    type: 'duration-seconds',
    default: 900,
    help: 'How often the worker looks again at every snapshot, restore claim and released volume, changed or not.',
  },
  {
    name: 'leader-elect',
    key: 'leaderElect',
    type: 'bool',
    default: false,
    help: 'Elect a leader with a coordination.k8s.io Lease in the main cluster before running the worker (for several replicas).',
  },
  {
    name: 'leader-elect-lease-duration',
    key: 'leaderElectLeaseDurationSeconds',
    type: 'duration-seconds',
    default: 15,
    check: positive,
    help: 'How long a non-leader waits after the last observed renewal before it may take the lease.',
  },
  {
    name: 'leader-elect-renew-deadline',
    key: 'leaderElectRenewDeadlineSeconds',
    type: 'duration-seconds',
    default: 10,
    check: positive,
    help: 'How long the leader keeps trying to renew before it stops the worker. Less than the lease duration.',
  },
  {
    name: 'leader-elect-retry-period',
    key: 'leaderElectRetryPeriodSeconds',
    type: 'duration-seconds',
    default: 5,
    check: positive,
    help: 'How long candidates wait between attempts to acquire or renew the lease.',
  },
  {
    name: 'leader-elect-resource-namespace',
    key: 'leaderElectResourceNamespace',
    type: 'string',
    default: 'kube-system',
    help: 'Namespace of the Lease used for leader election.',
  },
  {
    name: 'leader-elect-resource-name',
    key: 'leaderElectResourceName',
    type: 'string',
    default: 'volumesnapshot-apiserver-worker',
    help: 'Name of the Lease used for leader election.',
  },
];
