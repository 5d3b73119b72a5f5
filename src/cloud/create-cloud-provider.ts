// The one place that turns plain command-line options into a CloudProvider.

import { CloudError } from './cloud-error.js';
import type { CloudProvider } from './provider.js';
import type { RetryOptions } from './rate-limiter.js';

export type CloudProviderName = 'aws' | 'gce' | 'hostpath';
export const CLOUD_PROVIDERS: readonly CloudProviderName[] = ['aws', 'gce', 'hostpath'];

export const DEFAULT_CLOUD_QPS = 5;
export const DEFAULT_CLOUD_BURST = 10;

export interface CloudProviderOptions {
  provider: CloudProviderName;
  /** --cluster-id: ownership tag / label on what is created. */
  clusterId?: string;
  /** --aws-region (else AWS_REGION / AWS_DEFAULT_REGION, else the volume's zone). */
  awsRegion?: string;
  /** --aws-endpoint: EC2 endpoint URL override. */
  awsEndpoint?: string;
  /** --gce-project (else the application default credentials' project). */
  gceProject?: string;
  /** --gce-endpoint: Compute endpoint URL override, e.g. http://127.0.0.1:8089. */
  gceEndpoint?: string;
  /** A fixed bearer token for Compute instead of application default credentials. */
  gceAccessToken?: string;
  /** --data-dir: where hostpath keeps snapshots and restored volumes. */
  dataDir?: string;
  /** --cloud-qps / --cloud-burst: client-side rate limit of cloud API calls (qps <= 0: none). */
  qps?: number;
  burst?: number;
  retry?: Partial<RetryOptions>;
  requestTimeoutMs?: number;
  pollIntervalMs?: number;
}

/**
 * Providers are imported on demand: the AWS SDK and the Compute client take seconds to load, which a server that
 * uses another provider (standalone mode: hostpath) should not pay at every start.
 */
export async function createCloudProvider(options: CloudProviderOptions): Promise<CloudProvider> {
  const qps = options.qps ?? DEFAULT_CLOUD_QPS;
  const burst = options.burst ?? DEFAULT_CLOUD_BURST;
  const common = {
    qps,
    burst,
    ...(options.clusterId ? { clusterId: options.clusterId } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
  };
  switch (options.provider) {
    case 'aws': {
      const { AwsProvider } = await import('./aws.js');
      return new AwsProvider({
        ...common,
        ...(options.awsRegion ? { region: options.awsRegion } : {}),
        ...(options.awsEndpoint ? { endpoint: options.awsEndpoint } : {}),
      });
    }
    case 'gce': {
      let endpoint: { apiEndpoint: string; port?: number; protocol: 'http' | 'https' } | undefined;
      if (options.gceEndpoint) {
        const url = new URL(options.gceEndpoint);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
          throw CloudError.terminal('InvalidEndpoint', `--gce-endpoint must be an http(s) URL, got "${options.gceEndpoint}"`);
        }
        endpoint = { apiEndpoint: url.hostname, protocol: url.protocol === 'http:' ? 'http' : 'https' };
        if (url.port) endpoint.port = Number(url.port);
      }
      const { GceProvider } = await import('./gce.js');
      return new GceProvider({
        ...common,
        ...(options.gceProject ? { project: options.gceProject } : {}),
        ...(options.gceAccessToken ? { accessToken: options.gceAccessToken } : {}),
        ...endpoint,
      });
    }
    case 'hostpath': {
      if (!options.dataDir) throw CloudError.terminal('MissingDataDir', 'the hostpath cloud provider needs --data-dir');
      const { HostPathProvider } = await import('./hostpath.js');
      return new HostPathProvider({ dataDir: options.dataDir });
    }
    default:
      throw CloudError.terminal(
        'UnknownProvider',
        `unknown cloud provider "${String((options as { provider: unknown }).provider)}"; supported: ${CLOUD_PROVIDERS.join(', ')}`,
      );
  }
}
