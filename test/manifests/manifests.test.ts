// Every overlay renders with the real kubectl, every object validates against the Kubernetes schemas, and the
// pieces agree with each other and with the server: names, ports, paths, flags and certificates.
import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { MUTATE_PATH, VALIDATE_PATH } from '../../src/admission/admission-routes.js';
import { GROUP } from '../../src/apis/volumesnapshot/v1/types.js';
import { FlagError, parseFlags, serveFlags, validateServeOptions, type ServeOptions } from '../../src/config.js';
import { servingSans } from '../../src/server/pki.js';
import { goByteFieldsUnwrapped, validateAgainstSchema } from './kubernetes-schemas.js';
import { OVERLAYS, find, one, prepareManifests, type K8sObject } from './render-manifests.js';

interface Container {
  name: string;
  args: string[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: { scheme: string; path: string; port: string } };
  livenessProbe: { httpGet: { scheme: string; path: string; port: string } };
  resources: { requests: Record<string, string> };
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
  volumeMounts: { name: string; mountPath: string }[];
}
interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    template: {
      spec: {
        serviceAccountName: string;
        hostNetwork?: boolean;
        securityContext: { runAsNonRoot: boolean };
        topologySpreadConstraints: unknown[];
        containers: Container[];
        volumes: { name: string; secret?: { secretName: string }; persistentVolumeClaim?: { claimName: string }; emptyDir?: object }[];
      };
    };
  };
}
interface ServiceRef {
  name: string;
  namespace: string;
  port: number;
}
interface APIService extends K8sObject {
  spec: { group: string; version: string; service: ServiceRef; caBundle?: string; groupPriorityMinimum: number; versionPriority: number };
}
interface WebhookConfiguration extends K8sObject {
  webhooks: {
    name: string;
    clientConfig: { service: ServiceRef & { path: string }; caBundle?: string };
    failurePolicy: string;
    sideEffects: string;
    timeoutSeconds: number;
    admissionReviewVersions: string[];
    namespaceSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
    matchConditions: { name: string; expression: string }[];
  }[];
}
interface Service extends K8sObject {
  spec: { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] };
}

const stripWs = (s: string) => s.replace(/\s+/g, '');

function flagValue(args: string[], name: string): string | undefined {
  const hit = args.filter((a) => a.startsWith(`--${name}=`));
  if (hit.length > 1) throw new Error(`--${name} given ${hit.length} times`);
  return hit[0]?.slice(name.length + 3);
}

/** The Deployment's flags through the server's own parser (etcd flags skipped while the build lacks them). */
function parseServeArgs(args: string[]): ServeOptions {
  const [command, ...flags] = args;
  if (command !== 'serve') throw new Error(`first argument is ${command}, not serve`);
  const knowsEtcd = serveFlags.some((f) => f.name === 'etcd-servers');
  const usable = knowsEtcd ? flags : flags.filter((f) => !f.startsWith('--etcd-'));
  return parseFlags<ServeOptions>(serveFlags, usable);
}

t.test('rendered manifests', async (t) => {
  const m = await prepareManifests();
  t.teardown(() => m.cleanup());
  const caPem = await import('node:fs/promises').then((fs) => fs.readFile(`${m.pkiDir}/ca.crt`, 'utf8'));

  for (const overlay of OVERLAYS) {
    await t.test(overlay, async (t) => {
      const objects = await m.render(overlay);
      const kinds = objects.map((o) => o.kind);
      for (const kind of ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'PodDisruptionBudget', 'Service', 'APIService', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'StorageClass']) {
        t.ok(kinds.includes(kind), `has a ${kind}`);
      }

      // Schemas: every object of a Kubernetes kind; cert-manager's structurally.
      for (const obj of objects) {
        let known: boolean;
        try {
          known = await validateAgainstSchema(goByteFieldsUnwrapped(obj));
        } catch (err) {
          t.fail(`${obj.kind} ${obj.metadata.name}: ${(err as Error).message}`);
          continue;
        }
        if (!known) {
          t.equal(obj.apiVersion, 'cert-manager.io/v1', `${obj.kind} is the only kind of a group kubernetes-models lacks`);
          const spec = obj.spec as Record<string, unknown>;
          if (obj.kind === 'Certificate') {
            t.type(spec.secretName, 'string', 'Certificate.spec.secretName');
            t.match(spec.issuerRef, { name: String, kind: 'Issuer' }, 'Certificate.spec.issuerRef');
          } else {
            t.equal(obj.kind, 'Issuer');
            t.equal(Object.keys(spec).filter((k) => ['selfSigned', 'ca', 'acme', 'vault', 'venafi'].includes(k)).length, 1, 'Issuer has one kind');
          }
        }
      }
      const names = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      t.equal(new Set(names).size, names.length, 'no object twice');

      const deployment = one<Deployment>(objects, 'Deployment', 'volumesnapshot-apiserver');
      const service = one<Service>(objects, 'Service', 'volumesnapshot-apiserver');
      const apiService = one<APIService>(objects, 'APIService');
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      const opts = parseServeArgs(container.args);
      t.doesNotThrow(() => validateServeOptions({ ...opts, storage: 'sqlite' }, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }), 'flags are valid in a pod');
      if (overlay !== 'ha') {
        t.doesNotThrow(() => validateServeOptions(opts, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }), 'flags valid as they are');
        t.equal(deployment.spec.replicas, 1, 'SQLite: one replica');
        t.equal(opts.storage, 'sqlite');
        t.ok(find(objects, 'PersistentVolumeClaim', 'volumesnapshot-apiserver-data').length, 'data dir on a claim');
      } else {
        t.equal(deployment.spec.replicas, 2, 'ha: two replicas');
        t.equal(flagValue(container.args, 'storage'), 'etcd');
        t.equal(flagValue(container.args, 'leader-elect'), 'true');
        t.ok(flagValue(container.args, 'etcd-servers'), 'etcd servers given');
        t.equal(find(objects, 'PersistentVolumeClaim').length, 0, 'no SQLite claim');
        t.equal((one(objects, 'PodDisruptionBudget').spec as { minAvailable: number }).minAvailable, 1);
      }
      t.equal(opts.cloudProvider, overlay === 'gce' ? 'gce' : 'aws', 'cloud provider');
      if (opts.cloudProvider === 'aws') {
        const env = (container as unknown as { env: { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }[] }).env;
        t.same(
          env.map((e) => [e.name, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key]),
          [
            ['AWS_ACCESS_KEY_ID', 'awskeys', 'access-key-id'],
            ['AWS_SECRET_ACCESS_KEY', 'awskeys', 'secret-access-key'],
          ],
        );
        t.ok(find(objects, 'Secret', 'awskeys').length, 'awskeys template');
      }
      const sc = one<K8sObject & { provisioner: string; parameters: Record<string, string> }>(objects, 'StorageClass', opts.restoreStorageClass);
      t.equal(sc.provisioner, `${GROUP}/snapshot-promoter`);
      t.same(Object.keys(sc.parameters).sort(), opts.cloudProvider === 'aws' ? ['encrypted', 'type'] : ['type']);

      // Service ↔ Deployment ↔ flags.
      t.equal(service.metadata.namespace, opts.serviceNamespace, 'Service namespace = --service-namespace');
      t.equal(service.metadata.name, opts.serviceName, 'Service name = --service-name');
      t.equal(deployment.metadata.namespace, service.metadata.namespace);
      t.same(service.spec.ports.map((p) => p.port), [443]);
      const port = container.ports.find((p) => p.name === service.spec.ports[0].targetPort);
      t.equal(port?.containerPort, opts.securePort, 'Service targetPort → the container port → --secure-port');
      const podLabels = (deployment.spec.template as unknown as { metadata: { labels: Record<string, string> } }).metadata.labels;
      for (const [k, v] of Object.entries(service.spec.selector)) t.equal(podLabels[k], v, `Service selects the pods (${k})`);

      // Pod hardening and probes.
      t.notOk(pod.hostNetwork, 'no host network');
      t.equal(pod.securityContext.runAsNonRoot, true);
      t.equal(container.securityContext.readOnlyRootFilesystem, true);
      t.equal(container.securityContext.allowPrivilegeEscalation, false);
      t.ok(pod.topologySpreadConstraints.length > 0, 'topology spread');
      t.ok(container.resources.requests.cpu && container.resources.requests.memory, 'resource requests');
      t.same(
        [container.readinessProbe.httpGet, container.livenessProbe.httpGet].map((g) => [g.scheme, g.path, g.port]),
        [
          ['HTTPS', '/readyz', 'https'],
          ['HTTPS', '/livez', 'https'],
        ],
      );
      // Every directory the server writes or reads is a mount (the root filesystem is read-only).
      const mounted = (file: string) => container.volumeMounts.some((vm) => file === vm.mountPath || file.startsWith(`${vm.mountPath}/`));
      for (const file of [opts.certDir, opts.dataDir, opts.tlsCertFile!, opts.tlsPrivateKeyFile!, '/tmp']) t.ok(mounted(file), `${file} is on a volume`);
      const tlsVolume = pod.volumes.find((v) => v.secret?.secretName === 'volumesnapshot-apiserver-tls');
      t.ok(tlsVolume && container.volumeMounts.some((vm) => vm.name === tlsVolume.name && opts.tlsCertFile!.startsWith(vm.mountPath)), 'the TLS Secret holds --tls-cert-file');

      // APIService.
      t.equal(apiService.metadata.name, `${apiService.spec.version}.${apiService.spec.group}`, 'name = version.group');
      t.equal(apiService.spec.group, GROUP);
      t.equal(apiService.spec.version, 'v1');
      t.same(apiService.spec.service, { name: service.metadata.name, namespace: service.metadata.namespace, port: 443 });
      t.ok(apiService.spec.groupPriorityMinimum >= 1 && apiService.spec.groupPriorityMinimum <= 20000);
      t.ok(apiService.spec.versionPriority >= 1 && apiService.spec.versionPriority <= 1000);

      // Webhooks.
      const mutating = one<WebhookConfiguration>(objects, 'MutatingWebhookConfiguration');
      const validating = one<WebhookConfiguration>(objects, 'ValidatingWebhookConfiguration');
      for (const [config, name, path] of [
        [mutating, `mutate.restore-pvc.${GROUP}`, MUTATE_PATH],
        [validating, `validate.restore-pvc.${GROUP}`, VALIDATE_PATH],
      ] as const) {
        t.equal(config.webhooks.length, 1);
        const w = config.webhooks[0];
        t.equal(w.name, name);
        t.same(w.clientConfig.service, { name: service.metadata.name, namespace: service.metadata.namespace, port: 443, path }, `${name} → the Service, a path the server serves`);
        t.same(w.admissionReviewVersions, ['v1']);
        t.equal(w.sideEffects, 'None');
        t.equal(w.timeoutSeconds, 5);
        t.equal(w.failurePolicy, 'Fail');
        t.same(w.namespaceSelector.matchExpressions, [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [service.metadata.namespace] }], 'own namespace excluded');
        t.equal(w.matchConditions.length, 1);
      }
      t.equal(mutating.webhooks[0].matchConditions[0].expression, validating.webhooks[0].matchConditions[0].expression, 'both send the same claims');

      // Certificates: who provides the caBundle and the serving Secret.
      const caBundles = [apiService.spec.caBundle, mutating.webhooks[0].clientConfig.caBundle, validating.webhooks[0].clientConfig.caBundle];
      const expectedDns = `${service.metadata.name}.${service.metadata.namespace}.svc`;
      if (overlay === 'openshift') {
        t.same(caBundles, [undefined, undefined, undefined], 'the service-ca operator injects the caBundle');
        for (const o of [apiService, mutating, validating]) t.equal(o.metadata.annotations?.['service.beta.openshift.io/inject-cabundle'], 'true');
        t.equal(service.metadata.annotations?.['service.beta.openshift.io/serving-cert-secret-name'], tlsVolume?.secret?.secretName);
        t.equal(find(objects, 'Secret', 'volumesnapshot-apiserver-tls').length, 0, 'the operator owns the Secret');
      } else if (overlay === 'cert-manager') {
        const cert = one<K8sObject & { spec: { secretName: string; dnsNames: string[] } }>(objects, 'Certificate', 'volumesnapshot-apiserver-tls');
        t.same(caBundles, [undefined, undefined, undefined], 'cainjector fills the caBundle');
        for (const o of [apiService, mutating, validating]) {
          t.equal(o.metadata.annotations?.['cert-manager.io/inject-ca-from'], `${cert.metadata.namespace}/${cert.metadata.name}`);
        }
        t.equal(cert.spec.secretName, tlsVolume?.secret?.secretName, 'the Certificate writes the mounted Secret');
        const wanted = servingSans(service.metadata.name, service.metadata.namespace!).dns.filter((d) => d !== 'localhost');
        t.same([...cert.spec.dnsNames].sort(), [...wanted].sort(), 'same DNS names as `certs` generates');
        t.equal(find(objects, 'Secret', 'volumesnapshot-apiserver-tls').length, 0, 'cert-manager owns the Secret');
      } else {
        for (const b of caBundles) t.equal(stripWs(b ?? ''), m.printedCaBundle, 'caBundle = what `certs` printed');
        const secret = one<K8sObject & { data: Record<string, string>; type: string }>(objects, 'Secret', 'volumesnapshot-apiserver-tls');
        t.equal(secret.metadata.namespace, service.metadata.namespace);
        t.equal(secret.type, 'kubernetes.io/tls');
        const leaf = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
        const ca = new X509Certificate(Buffer.from(stripWs(caBundles[0]!), 'base64'));
        t.ok(leaf.verify(ca.publicKey), 'the serving certificate chains to the caBundle');
        t.equal(ca.toString(), new X509Certificate(caPem).toString());
        const sans = (leaf.subjectAltName ?? '').split(', ');
        t.ok(sans.includes(`DNS:${expectedDns}`), `SAN ${expectedDns} (kube-aggregator dials it)`);
        t.ok(leaf.checkHost(expectedDns), 'valid for the Service DNS name');
      }

      // RBAC subjects: the ServiceAccount the pods run as.
      const sa = one(objects, 'ServiceAccount');
      t.equal(pod.serviceAccountName, sa.metadata.name);
      for (const b of [...find(objects, 'ClusterRoleBinding'), ...find(objects, 'RoleBinding')]) {
        const subjects = (b as unknown as { subjects: { kind: string; name: string; namespace: string }[] }).subjects;
        t.same(subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }], `${b.metadata.name} binds the ServiceAccount`);
      }
      const delegation = [
        ['ClusterRoleBinding', 'ClusterRole', 'system:auth-delegator', undefined],
        ['RoleBinding', 'Role', 'extension-apiserver-authentication-reader', 'kube-system'],
      ] as const;
      for (const [kind, refKind, refName, ns] of delegation) {
        t.ok(
          find(objects, kind).some((b) => {
            const ref = (b as unknown as { roleRef: { kind: string; name: string } }).roleRef;
            return ref.kind === refKind && ref.name === refName && b.metadata.namespace === ns;
          }),
          `${kind} to ${refName}`,
        );
      }
      const aggregated = find(objects, 'ClusterRole').filter((r) => Object.keys(r.metadata.labels ?? {}).some((l) => l.startsWith('rbac.authorization.k8s.io/aggregate-to-')));
      t.same(aggregated.map((r) => r.metadata.name).sort(), ['volumesnapshot-edit', 'volumesnapshot-view']);
      t.ok(find(objects, 'ClusterRole', 'volumesnapshot-admin').length, "the seed's volumesnapshot-admin");
    });
  }

  await t.test('the schema check rejects what kube-apiserver would', async (t) => {
    const objects = await m.render('aws');
    const apiService = structuredClone(one<APIService>(objects, 'APIService'));
    (apiService.spec as unknown as Record<string, unknown>).groupPriorityMinimum = 'high';
    await t.rejects(validateAgainstSchema(apiService), /groupPriorityMinimum/);
    const deployment = structuredClone(one<Deployment>(objects, 'Deployment'));
    (deployment.spec.template.spec.containers[0] as unknown as Record<string, unknown>).ports = [{ containerPort: 'https' }];
    await t.rejects(validateAgainstSchema(deployment), /containerPort/);
  });

  await t.test('the Deployment flags are checked by the real parser', async (t) => {
    t.throws(() => parseServeArgs(['serve', '--secure-prot=8443']), FlagError);
  });
});
