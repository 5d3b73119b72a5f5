// The command line: kube-style flags (as kube-apiserver names them) → one typed options object.
// Parsing is pure; main.ts decides what to do with errors (exit 2 with a one-line reason, before anything is written).
// The flags of delegated authn/authz and of the worker live beside the code they configure and are composed here.
import { delegationFlags, type DelegationFlagValues } from './server/delegation-flags.js';
import { workerFlags, type WorkerFlagValues } from './controller/worker-flags.js';
import { maxInFlightFlags, type MaxInFlightFlagValues } from './server/max-in-flight.js';

export type CloudProviderName = 'aws' | 'gce' | 'hostpath';
export type StorageBackend = 'sqlite' | 'etcd';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface ServeOptions extends DelegationFlagValues, WorkerFlagValues, MaxInFlightFlagValues {
  securePort: number;
  bindAddress: string;
  certDir: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tlsMinVersion: 'VersionTLS12' | 'VersionTLS13';
  clientCaFile?: string;
  dataDir: string;
  kubeconfig?: string;
  localCluster: boolean;
  cloudProvider: CloudProviderName;
  storage: StorageBackend;
  serviceName: string;
  serviceNamespace: string;
  restoreStorageClass: string;
  admissionClientCaFile?: string;
  logLevel: LogLevel;
  shutdownTimeoutSeconds: number;
  clusterId?: string;
  awsRegion?: string;
  awsEndpoint?: string;
  gceProject?: string;
  gceEndpoint?: string;
  cloudQps: number;
  cloudBurst: number;
  etcdServers?: string;
  etcdPrefix: string;
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
  etcdCompactionIntervalSeconds: number;
}

export interface CertsOptions {
  certDir: string;
  serviceName: string;
  serviceNamespace: string;
  securePort: number;
}

type FlagType = 'string' | 'int' | 'number' | 'bool' | 'enum' | 'duration-seconds';

export interface FlagSpec<K extends string = string> {
  name: string;
  key: K;
  type: FlagType;
  default?: string | number | boolean;
  values?: readonly string[];
  help: string;
  /** Extra check after type conversion; returns an error text or undefined. */
  check?: (value: unknown) => string | undefined;
}

const port = (v: unknown) => (Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'must be a port between 1 and 65535');

const common = {
  certDir: {
    name: 'cert-dir',
    key: 'certDir',
    type: 'string',
    default: './certs',
    help: 'Directory of the generated PKI (CA, serving, front-proxy and admin certificates, and an admin kubeconfig). Files that exist and are valid for 30 more days are reused.',
  },
  serviceName: {
    name: 'service-name',
    key: 'serviceName',
    type: 'string',
    default: 'volumesnapshot-apiserver',
    help: 'Name of the Service in front of the server; the serving certificate gets the SANs <service-name>.<service-namespace>.svc[.cluster.local].',
  },
  serviceNamespace: {
    name: 'service-namespace',
    key: 'serviceNamespace',
    type: 'string',
    default: 'volumesnapshot',
    help: 'Namespace of that Service.',
  },
  securePort: {
    name: 'secure-port',
    key: 'securePort',
    type: 'int',
    default: 8443,
    check: port,
    help: 'The port on which to serve HTTPS with authentication and authorization.',
  },
} as const satisfies Record<string, FlagSpec>;

const cloudFlags: FlagSpec<keyof ServeOptions>[] = [
  {
    name: 'cluster-id',
    key: 'clusterId',
    type: 'string',
    help: 'Tags (AWS) or labels (GCE) what the worker creates as owned by this cluster: kubernetes.io/cluster/<id>=owned.',
  },
  {
    name: 'aws-region',
    key: 'awsRegion',
    type: 'string',
    help: 'EC2 region. Default: AWS_REGION, then AWS_DEFAULT_REGION, then the region of the volume\'s zone.',
  },
  {
    name: 'aws-endpoint',
    key: 'awsEndpoint',
    type: 'string',
    help: 'EC2 endpoint URL override (VPC endpoints, tests). Default: the SDK\'s regional endpoint.',
  },
  {
    name: 'gce-project',
    key: 'gceProject',
    type: 'string',
    help: 'Compute Engine project. Default: the project of the application default credentials.',
  },
  {
    name: 'gce-endpoint',
    key: 'gceEndpoint',
    type: 'string',
    help: 'Compute Engine endpoint URL override (tests). Default: https://compute.googleapis.com.',
  },
  {
    name: 'cloud-qps',
    key: 'cloudQps',
    type: 'number',
    default: 5,
    check: (v) => (Number(v) >= 0 ? undefined : 'must not be negative'),
    help: 'Client-side limit of cloud API calls per second (0 = no limit); throttling answers also pause every call.',
  },
  {
    name: 'cloud-burst',
    key: 'cloudBurst',
    type: 'int',
    default: 10,
    check: (v) => (Number(v) >= 1 ? undefined : 'must be at least 1'),
    help: 'Cloud API calls allowed at once above --cloud-qps.',
  },
];

const etcdFlags: FlagSpec<keyof ServeOptions>[] = [
  {
    name: 'etcd-servers',
    key: 'etcdServers',
    type: 'string',
    help: 'List of etcd servers to connect with (scheme://ip:port), comma separated. Required with --storage=etcd.',
  },
  {
    name: 'etcd-prefix',
    key: 'etcdPrefix',
    type: 'string',
    default: '/registry/volumesnapshot.external-storage.k8s.io',
    check: (v) => (/^\/.*[^/]$/.test(String(v)) ? undefined : 'must start with "/" and not end with one'),
    help: 'The prefix to prepend to all resource paths in etcd.',
  },
  { name: 'etcd-cafile', key: 'etcdCafile', type: 'string', help: 'SSL Certificate Authority file used to secure etcd communication.' },
  { name: 'etcd-certfile', key: 'etcdCertfile', type: 'string', help: 'SSL certification file used to secure etcd communication.' },
  { name: 'etcd-keyfile', key: 'etcdKeyfile', type: 'string', help: 'SSL key file used to secure etcd communication.' },
  {
    name: 'etcd-compaction-interval',
    key: 'etcdCompactionIntervalSeconds',
    type: 'duration-seconds',
    default: 300,
    help: 'The interval of compaction requests. If 0, the compaction request from apiserver is disabled.',
  },
];

const coreServeFlags: FlagSpec<keyof ServeOptions>[] = [
  common.securePort,
  {
    name: 'bind-address',
    key: 'bindAddress',
    type: 'string',
    default: '0.0.0.0',
    check: (v) => (/^[0-9a-fA-F.:]+$/.test(String(v)) ? undefined : 'must be an IP address'),
    help: 'The IP address on which to listen for the --secure-port port (0.0.0.0 or :: for all interfaces).',
  },
  common.certDir,
  {
    name: 'tls-cert-file',
    key: 'tlsCertFile',
    type: 'string',
    help: 'File containing the default x509 certificate for HTTPS (CA cert, if any, concatenated after server cert). If unset, a serving certificate signed by the generated CA in --cert-dir is used.',
  },
  {
    name: 'tls-private-key-file',
    key: 'tlsPrivateKeyFile',
    type: 'string',
    help: 'File containing the default x509 private key matching --tls-cert-file.',
  },
  {
    name: 'tls-min-version',
    key: 'tlsMinVersion',
    type: 'enum',
    values: ['VersionTLS12', 'VersionTLS13'],
    default: 'VersionTLS12',
    help: 'Minimum TLS version supported.',
  },
  {
    name: 'client-ca-file',
    key: 'clientCaFile',
    type: 'string',
    help: 'If set, any request presenting a client certificate signed by one of the authorities in this file is authenticated with an identity corresponding to the CommonName (user) and Organizations (groups) of the client certificate. Default: the generated ca.crt in --cert-dir.',
  },
  {
    name: 'data-dir',
    key: 'dataDir',
    type: 'string',
    default: './data',
    help: 'Directory of the SQLite store (store.db) and, with --cloudprovider=hostpath, of the snapshots and restored volumes.',
  },
  {
    name: 'kubeconfig',
    key: 'kubeconfig',
    type: 'string',
    help: 'kubeconfig of the main cluster (PVCs, PVs, StorageClasses, Events, Leases, TokenReview, SubjectAccessReview). Default: the in-cluster configuration. With --local-cluster: the generated admin kubeconfig of this server.',
  },
  {
    name: 'local-cluster',
    key: 'localCluster',
    type: 'bool',
    default: false,
    help: 'Standalone mode: also serve namespaces, PVCs, PVs, events, storage classes and leases from the local store, so the whole story can be tried with plain kubectl and no cluster.',
  },
  {
    name: 'cloudprovider',
    key: 'cloudProvider',
    type: 'enum',
    values: ['aws', 'gce', 'hostpath'],
    default: 'hostpath',
    help: 'Where snapshots are taken: aws (EBS), gce (Persistent Disk) or hostpath (directory copies under --data-dir, for standalone mode).',
  },
  {
    name: 'storage',
    key: 'storage',
    type: 'enum',
    values: ['sqlite', 'etcd'],
    default: 'sqlite',
    help: 'Storage backend: sqlite (a file in --data-dir, one replica) or etcd (several replicas; see --etcd-servers).',
  },
  common.serviceName,
  common.serviceNamespace,
  {
    name: 'restore-storage-class',
    key: 'restoreStorageClass',
    type: 'string',
    default: 'snapshot-promoter',
    help: 'StorageClass given to restore PVCs that name none (its provisioner must be volumesnapshot.external-storage.k8s.io/snapshot-promoter).',
  },
  {
    name: 'admission-client-ca-file',
    key: 'admissionClientCaFile',
    type: 'string',
    help: 'If set, the admission webhook paths require a client certificate signed by this CA (what an AdmissionConfiguration kubeConfigFile provides). Default: kube-apiserver calls webhooks without credentials, so they are open (TLS only).',
  },
  {
    name: 'log-level',
    key: 'logLevel',
    type: 'enum',
    values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    default: 'info',
    help: 'Minimum level of the JSON log lines written to stdout.',
  },
  {
    name: 'shutdown-timeout',
    key: 'shutdownTimeoutSeconds',
    type: 'duration-seconds',
    default: 10,
    help: 'On SIGTERM/SIGINT, how long in-flight requests may run before the server closes them and exits (watches end at once).',
  },
];

export const serveFlags: FlagSpec<keyof ServeOptions>[] = [
  ...coreServeFlags,
  ...etcdFlags,
  ...cloudFlags,
  ...(workerFlags as FlagSpec<keyof ServeOptions>[]),
  ...(delegationFlags as FlagSpec<keyof ServeOptions>[]),
  ...(maxInFlightFlags as FlagSpec<keyof ServeOptions>[]),
];

export const certsFlags: FlagSpec<keyof CertsOptions>[] = [
  common.certDir,
  common.serviceName,
  common.serviceNamespace,
  { ...common.securePort, help: 'The port written into the generated kubeconfig (https://127.0.0.1:<port>).' },
];

export class FlagError extends Error {
  override name = 'FlagError';
}

/** Go durations as kube flags take them ("10s", "1m30s", "500ms"), or plain seconds. */
export function parseDurationSeconds(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    if (m.index !== consumed) throw new Error('bad duration');
    consumed += m[0].length;
    const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    total += Number(m[1]) * unit;
  }
  if (consumed !== text.length || consumed === 0) throw new Error('bad duration');
  return total;
}

function convert(spec: FlagSpec, raw: string): unknown {
  const bad = (why: string) => new FlagError(`invalid argument "${raw}" for "--${spec.name}" flag: ${why}`);
  let value: unknown;
  switch (spec.type) {
    case 'string':
      value = raw;
      break;
    case 'int':
      if (!/^-?\d+$/.test(raw)) throw bad('strconv.ParseInt: parsing "' + raw + '": invalid syntax');
      value = Number(raw);
      break;
    case 'number':
      if (!/^-?\d+(\.\d+)?$/.test(raw)) throw bad('strconv.ParseFloat: parsing "' + raw + '": invalid syntax');
      value = Number(raw);
      break;
    case 'bool':
      if (!['true', 'false', '1', '0'].includes(raw)) throw bad('strconv.ParseBool: parsing "' + raw + '": invalid syntax');
      value = raw === 'true' || raw === '1';
      break;
    case 'enum':
      if (!spec.values!.includes(raw)) throw bad(`must be one of ${spec.values!.join(', ')}`);
      value = raw;
      break;
    case 'duration-seconds':
      try {
        value = parseDurationSeconds(raw);
      } catch {
        throw bad(`time: invalid duration "${raw}"`);
      }
      break;
  }
  const problem = spec.check?.(value);
  if (problem) throw bad(problem);
  return value;
}

/** Parses `--name=value`, `--name value` and bare boolean `--name`; unknown flags and stray arguments are errors. */
export function parseFlags<T>(specs: FlagSpec[], argv: string[]): T {
  const out: Record<string, unknown> = {};
  for (const s of specs) if (s.default !== undefined) out[s.key] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-')) throw new FlagError(`unexpected argument "${arg}"`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new FlagError(`unknown flag: --${name}`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (spec.type === 'bool') raw = 'true';
    else if (i + 1 < argv.length) raw = argv[++i];
    else throw new FlagError(`flag needs an argument: --${name}`);
    out[spec.key] = convert(spec, raw);
  }
  return out as T;
}

export function validateServeOptions(o: ServeOptions, env: Record<string, string | undefined> = process.env): void {
  if (!o.localCluster && !o.kubeconfig && !env.KUBERNETES_SERVICE_HOST) {
    throw new FlagError('no main cluster: give --kubeconfig, run inside a cluster, or use --local-cluster for standalone mode');
  }
  if (!!o.tlsCertFile !== !!o.tlsPrivateKeyFile) {
    throw new FlagError('--tls-cert-file and --tls-private-key-file must be given together');
  }
  if (o.storage === 'etcd' && !o.etcdServers) throw new FlagError('--storage=etcd needs --etcd-servers');
  if (!!o.etcdCertfile !== !!o.etcdKeyfile) throw new FlagError('--etcd-certfile and --etcd-keyfile must be given together');
  if (o.localCluster && o.kubeconfig) {
    throw new FlagError('--local-cluster serves its own cluster; it cannot be combined with --kubeconfig');
  }
}

export function usage(command: string, summary: string, specs: FlagSpec[]): string {
  const lines = [`Usage: volumesnapshot-apiserver ${command} [flags]`, '', summary, '', 'Flags:'];
  for (const s of specs) {
    const kind = s.type === 'bool' ? '' : s.type === 'enum' ? ` ${s.values!.join('|')}` : s.type === 'int' ? ' int' : s.type === 'number' ? ' float' : s.type === 'duration-seconds' ? ' duration' : ' string';
    const def = s.default === undefined || s.default === false ? '' : ` (default ${s.type === 'duration-seconds' ? `${s.default}s` : JSON.stringify(s.default)})`;
    lines.push(`      --${s.name}${kind}`);
    lines.push(`          ${s.help}${def}`);
  }
  lines.push('      -h, --help', '          Show this help.');
  return lines.join('\n') + '\n';
}
