// The flags of delegated authentication and authorization, named as kube-apiserver and every aggregated server
// name them (k8s.io/apiserver/pkg/server/options/authentication.go, authorization.go), in config.ts's FlagSpec shape,
// and their translation into the options of createAuthentication / createAuthorization.
import type { FlagSpec } from '../config.js';
import type { AuthenticationOptions } from './authentication-config.js';
import type { AuthorizationOptions } from './authorization-config.js';

export interface DelegationFlagValues {
  authenticationKubeconfig?: string;
  authenticationSkipLookup: boolean;
  authenticationTolerateLookupFailure: boolean;
  authenticationTokenWebhookCacheTtlSeconds: number;
  requestheaderClientCaFile?: string;
  /** Comma-separated lists, as the Go flags take them. */
  requestheaderAllowedNames: string;
  requestheaderUsernameHeaders: string;
  requestheaderUidHeaders: string;
  requestheaderGroupHeaders: string;
  requestheaderExtraHeadersPrefix: string;
  authorizationKubeconfig?: string;
  authorizationWebhookCacheAuthorizedTtlSeconds: number;
  authorizationWebhookCacheUnauthorizedTtlSeconds: number;
  authorizationAlwaysAllowPaths: string;
  authorizationPolicyFile?: string;
}

export const delegationFlags: FlagSpec<keyof DelegationFlagValues>[] = [
  {
    name: 'authentication-kubeconfig',
    key: 'authenticationKubeconfig',
    type: 'string',
    help: 'kubeconfig file pointing at the \'core\' kubernetes server with enough rights to create tokenreviews.authentication.k8s.io and to read configmap kube-system/extension-apiserver-authentication. Default: --kubeconfig, else the in-cluster configuration. Not used with --local-cluster.',
  },
  {
    name: 'authentication-skip-lookup',
    key: 'authenticationSkipLookup',
    type: 'bool',
    default: false,
    help: 'If false, the authentication-kubeconfig will be used to lookup missing authentication configuration from the cluster (configmap kube-system/extension-apiserver-authentication, watched for changes).',
  },
  {
    name: 'authentication-tolerate-lookup-failure',
    key: 'authenticationTolerateLookupFailure',
    type: 'bool',
    default: false,
    help: 'If true, failures to look up missing authentication configuration from the cluster are not considered fatal (the lookup is retried in the background). Note that this can result in authentication that treats all requests as anonymous.',
  },
  {
    name: 'authentication-token-webhook-cache-ttl',
    key: 'authenticationTokenWebhookCacheTtlSeconds',
    type: 'duration-seconds',
    default: 10,
    help: 'The duration to cache responses from the webhook token authenticator (TokenReview), both accepted and rejected tokens. Tokens are cached by their SHA-256 hash only.',
  },
  {
    name: 'requestheader-client-ca-file',
    key: 'requestheaderClientCaFile',
    type: 'string',
    help: 'Root certificate bundle to use to verify client certificates on incoming requests before trusting usernames in headers specified by --requestheader-username-headers. WARNING: generally do not depend on authorization being already done for incoming requests. Default: from the cluster\'s configmap; with --local-cluster, front-proxy-ca.crt in --cert-dir.',
  },
  {
    name: 'requestheader-allowed-names',
    key: 'requestheaderAllowedNames',
    type: 'string',
    default: '',
    help: 'Comma-separated list of client certificate common names to allow to provide usernames in headers specified by --requestheader-username-headers. If empty, any client certificate validated by the authorities in --requestheader-client-ca-file is allowed. With --local-cluster and no --requestheader-client-ca-file: front-proxy-client.',
  },
  {
    name: 'requestheader-username-headers',
    key: 'requestheaderUsernameHeaders',
    type: 'string',
    default: 'X-Remote-User',
    help: 'Comma-separated list of request headers to inspect for usernames. X-Remote-User is common.',
  },
  {
    name: 'requestheader-uid-headers',
    key: 'requestheaderUidHeaders',
    type: 'string',
    default: 'X-Remote-Uid',
    help: 'Comma-separated list of request headers to inspect for UIDs. X-Remote-Uid is suggested.',
  },
  {
    name: 'requestheader-group-headers',
    key: 'requestheaderGroupHeaders',
    type: 'string',
    default: 'X-Remote-Group',
    help: 'Comma-separated list of request headers to inspect for groups. X-Remote-Group is suggested.',
  },
  {
    name: 'requestheader-extra-headers-prefix',
    key: 'requestheaderExtraHeadersPrefix',
    type: 'string',
    default: 'X-Remote-Extra-',
    help: 'Comma-separated list of request header prefixes to inspect. X-Remote-Extra- is suggested.',
  },
  {
    name: 'authorization-kubeconfig',
    key: 'authorizationKubeconfig',
    type: 'string',
    help: 'kubeconfig file pointing at the \'core\' kubernetes server with enough rights to create subjectaccessreviews.authorization.k8s.io. Default: --kubeconfig, else the in-cluster configuration. Not used with --local-cluster (see --authorization-policy-file).',
  },
  {
    name: 'authorization-webhook-cache-authorized-ttl',
    key: 'authorizationWebhookCacheAuthorizedTtlSeconds',
    type: 'duration-seconds',
    default: 10,
    help: 'The duration to cache \'authorized\' responses from the webhook authorizer.',
  },
  {
    name: 'authorization-webhook-cache-unauthorized-ttl',
    key: 'authorizationWebhookCacheUnauthorizedTtlSeconds',
    type: 'duration-seconds',
    default: 10,
    help: 'The duration to cache \'unauthorized\' responses from the webhook authorizer.',
  },
  {
    name: 'authorization-always-allow-paths',
    key: 'authorizationAlwaysAllowPaths',
    type: 'string',
    default: '/healthz,/readyz,/livez',
    help: 'Comma-separated list of HTTP paths to skip during authorization, i.e. these are authorized without contacting the \'core\' kubernetes server. A trailing * matches by prefix.',
  },
  {
    name: 'authorization-policy-file',
    key: 'authorizationPolicyFile',
    type: 'string',
    help: 'Standalone mode (--local-cluster): YAML file of allow rules deciding who may do what (see README, Security). Default: a built-in policy — group system:masters may do everything; group volumesnapshot:viewers may get, list and watch everything; everyone else is denied.',
  },
];

/** "a, b,,c" → ["a", "b", "c"] (Go's StringSlice flag, with blanks dropped). */
export function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export interface StandaloneDefaults {
  /** The generated front-proxy-ca.crt, trusted for front-proxy requests unless --requestheader-client-ca-file is given. */
  frontProxyCaFile: string;
}

/**
 * The options of createAuthentication from the parsed flags. With `standalone`, the generated front-proxy CA is the
 * requestheader CA and `front-proxy-client` the allowed name, unless the flags say otherwise.
 */
export function authenticationOptionsFromFlags(
  flags: DelegationFlagValues & { clientCaFile?: string },
  standalone?: StandaloneDefaults,
): AuthenticationOptions {
  let requestheaderClientCaFile = flags.requestheaderClientCaFile;
  let requestheaderAllowedNames = splitList(flags.requestheaderAllowedNames);
  if (standalone && !requestheaderClientCaFile) {
    requestheaderClientCaFile = standalone.frontProxyCaFile;
    if (requestheaderAllowedNames.length === 0) requestheaderAllowedNames = ['front-proxy-client'];
  }
  return {
    clientCaFile: flags.clientCaFile,
    requestheaderClientCaFile,
    requestheaderAllowedNames,
    requestheaderUsernameHeaders: splitList(flags.requestheaderUsernameHeaders),
    requestheaderUidHeaders: splitList(flags.requestheaderUidHeaders),
    requestheaderGroupHeaders: splitList(flags.requestheaderGroupHeaders),
    requestheaderExtraHeadersPrefix: splitList(flags.requestheaderExtraHeadersPrefix),
    tokenWebhookCacheTtlSeconds: flags.authenticationTokenWebhookCacheTtlSeconds,
    tolerateLookupFailure: flags.authenticationTolerateLookupFailure,
  };
}

export function authorizationOptionsFromFlags(flags: DelegationFlagValues): AuthorizationOptions {
  return {
    alwaysAllowPaths: splitList(flags.authorizationAlwaysAllowPaths),
    authorizedTtlSeconds: flags.authorizationWebhookCacheAuthorizedTtlSeconds,
    unauthorizedTtlSeconds: flags.authorizationWebhookCacheUnauthorizedTtlSeconds,
    policyFile: flags.authorizationPolicyFile,
  };
}
