// RBAC derived from the code: every call src/cluster makes to the main cluster is found in the source, looked up
// in CALLS (which says what it needs), and must be allowed to the server's ServiceAccount by the rendered RBAC;
// every rule of the server's own roles must be needed by some call. A new client call fails here until both the
// table and manifests/base/server-rbac.yaml say what it needs.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseFlags, serveFlags, type ServeOptions } from '../../src/config.js';
import { repoRoot } from '../helpers/paths.js';
import { find, one, prepareManifests, type K8sObject } from './render-manifests.js';

interface Need {
  group: string;
  resource: string;
  verb: string;
  /** 'cluster' = any namespace (or cluster-scoped); else the namespace (a flag's value, see below). */
  namespace: 'cluster' | 'kube-system' | 'leader-elect';
  name?: 'extension-apiserver-authentication' | 'leader-elect';
}

/** client-node method → what kube-apiserver authorizes it as. */
const CALLS: Record<string, Need[]> = {
  readNamespacedPersistentVolumeClaim: [{ group: '', resource: 'persistentvolumeclaims', verb: 'get', namespace: 'cluster' }],
  listPersistentVolumeClaimForAllNamespaces: [{ group: '', resource: 'persistentvolumeclaims', verb: 'list', namespace: 'cluster' }],
  replaceNamespacedPersistentVolumeClaim: [{ group: '', resource: 'persistentvolumeclaims', verb: 'update', namespace: 'cluster' }],
  readPersistentVolume: [{ group: '', resource: 'persistentvolumes', verb: 'get', namespace: 'cluster' }],
  listPersistentVolume: [{ group: '', resource: 'persistentvolumes', verb: 'list', namespace: 'cluster' }],
  createPersistentVolume: [{ group: '', resource: 'persistentvolumes', verb: 'create', namespace: 'cluster' }],
  deletePersistentVolume: [{ group: '', resource: 'persistentvolumes', verb: 'delete', namespace: 'cluster' }],
  readStorageClass: [{ group: 'storage.k8s.io', resource: 'storageclasses', verb: 'get', namespace: 'cluster' }],
  createNamespacedEvent: [{ group: '', resource: 'events', verb: 'create', namespace: 'cluster' }],
  replaceNamespacedEvent: [{ group: '', resource: 'events', verb: 'update', namespace: 'cluster' }],
  readNamespacedLease: [{ group: 'coordination.k8s.io', resource: 'leases', verb: 'get', namespace: 'leader-elect', name: 'leader-elect' }],
  createNamespacedLease: [{ group: 'coordination.k8s.io', resource: 'leases', verb: 'create', namespace: 'leader-elect' }],
  replaceNamespacedLease: [{ group: 'coordination.k8s.io', resource: 'leases', verb: 'update', namespace: 'leader-elect', name: 'leader-elect' }],
  createTokenReview: [{ group: 'authentication.k8s.io', resource: 'tokenreviews', verb: 'create', namespace: 'cluster' }],
  createSubjectAccessReview: [{ group: 'authorization.k8s.io', resource: 'subjectaccessreviews', verb: 'create', namespace: 'cluster' }],
  readNamespacedConfigMap: [{ group: '', resource: 'configmaps', verb: 'get', namespace: 'kube-system', name: 'extension-apiserver-authentication' }],
  // With fieldSelector metadata.name=…, which is what lets a resourceNames rule allow a list.
  listNamespacedConfigMap: [{ group: '', resource: 'configmaps', verb: 'list', namespace: 'kube-system', name: 'extension-apiserver-authentication' }],
};

/** Watch paths (informers, Watch) → the watch they open. */
const WATCHES: Record<string, Need> = {
  '/api/v1/persistentvolumeclaims': { group: '', resource: 'persistentvolumeclaims', verb: 'watch', namespace: 'cluster' },
  '/api/v1/persistentvolumes': { group: '', resource: 'persistentvolumes', verb: 'watch', namespace: 'cluster' },
  '/api/v1/namespaces/${…}/configmaps': { group: '', resource: 'configmaps', verb: 'watch', namespace: 'kube-system', name: 'extension-apiserver-authentication' },
};

// The rules of the two upstream roles the manifests bind to (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go
// and namespace_policy.go in kubernetes/kubernetes).
const UPSTREAM_ROLES: Record<string, Rule[]> = {
  'ClusterRole/system:auth-delegator': [
    { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
  ],
  'Role/kube-system/extension-apiserver-authentication-reader': [
    { apiGroups: [''], resources: ['configmaps'], resourceNames: ['extension-apiserver-authentication'], verbs: ['get', 'list', 'watch'] },
  ],
};

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Every client-node call and watch path in src/cluster. */
async function clusterCalls(): Promise<{ methods: Set<string>; watchPaths: Set<string> }> {
  const dir = path.join(repoRoot, 'src', 'cluster');
  const methods = new Set<string>();
  const watchPaths = new Set<string>();
  for (const file of await fs.readdir(dir)) {
    if (!file.endsWith('.ts')) continue;
    const src = await fs.readFile(path.join(dir, file), 'utf8');
    for (const m of src.matchAll(/this\.\w+\.\s*((?:read|list|create|replace|patch|delete|deleteCollection)(?:Namespaced)?[A-Z]\w*)\s*\(/g)) methods.add(m[1]);
    for (const m of src.matchAll(/[`'](\/apis?\/[^`']*)[`']/g)) watchPaths.add(m[1].replace(/\$\{[^}]*\}/g, '${…}'));
  }
  return { methods, watchPaths };
}

function allows(rule: Rule, need: Need, name: string | undefined): boolean {
  const has = (list: string[], v: string) => list.includes(v) || list.includes('*');
  if (!has(rule.apiGroups, need.group) || !has(rule.resources, need.resource) || !has(rule.verbs, need.verb)) return false;
  if (!rule.resourceNames?.length) return true;
  // A create has no name to match; RBAC never lets a resourceNames rule allow it.
  return need.verb !== 'create' && name !== undefined && rule.resourceNames.includes(name);
}

t.test('RBAC covers each call src/cluster makes, and nothing more', async (t) => {
  const { methods, watchPaths } = await clusterCalls();
  t.same([...methods].filter((m) => !(m in CALLS)), [], 'every client call is in the table (add new ones there and to the ClusterRole)');
  t.same(Object.keys(CALLS).filter((m) => !methods.has(m)), [], 'every call in the table is still made');
  t.same([...watchPaths].filter((p) => !(p in WATCHES)).sort(), [], 'every watch path is in the table');
  t.same(Object.keys(WATCHES).filter((p) => !watchPaths.has(p)), [], 'every watch in the table is still opened');
  const needs = [...Object.values(CALLS).flat(), ...Object.values(WATCHES)];

  const m = await prepareManifests();
  t.teardown(() => m.cleanup());
  for (const overlay of ['aws', 'ha'] as const) {
    await t.test(overlay, async (t) => {
      const objects = await m.render(overlay);
      const sa = one(objects, 'ServiceAccount');
      const args = (one(objects, 'Deployment').spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0].args;
      const opts = parseFlags<ServeOptions>(serveFlags, args.slice(1).filter((a) => !a.startsWith('--etcd-')));
      const isOurs = (b: K8sObject) =>
        (b as unknown as { subjects: { kind: string; name: string; namespace: string }[] }).subjects.some(
          (s) => s.kind === 'ServiceAccount' && s.name === sa.metadata.name && s.namespace === sa.metadata.namespace,
        );
      const rulesOf = (kind: string, name: string, ns?: string): Rule[] => {
        const key = ns ? `${kind}/${ns}/${name}` : `${kind}/${name}`;
        if (UPSTREAM_ROLES[key]) return UPSTREAM_ROLES[key];
        const role = find(objects, kind, name).find((r) => r.metadata.namespace === ns);
        if (!role) throw new Error(`${key} is bound but not in the manifests nor a known upstream role`);
        return (role as unknown as { rules: Rule[] }).rules;
      };
      // Which rules apply where: ClusterRoleBindings everywhere, RoleBindings in their namespace.
      const grants: { namespace: string | 'cluster'; rule: Rule; role: string }[] = [];
      for (const b of find(objects, 'ClusterRoleBinding').filter(isOurs)) {
        const ref = (b as unknown as { roleRef: { name: string } }).roleRef;
        for (const rule of rulesOf('ClusterRole', ref.name)) grants.push({ namespace: 'cluster', rule, role: ref.name });
      }
      for (const b of find(objects, 'RoleBinding').filter(isOurs)) {
        const ref = (b as unknown as { roleRef: { kind: string; name: string } }).roleRef;
        const ns = b.metadata.namespace!;
        for (const rule of rulesOf(ref.kind, ref.name, ref.kind === 'Role' ? ns : undefined)) grants.push({ namespace: ns, rule, role: ref.name });
      }
      const used = new Set<Rule>();
      for (const need of needs) {
        if (need.namespace === 'leader-elect' && !opts.leaderElect && overlay !== 'ha') continue;
        const ns = need.namespace === 'leader-elect' ? opts.leaderElectResourceNamespace : need.namespace;
        const name = need.name === 'leader-elect' ? opts.leaderElectResourceName : need.name;
        const hits = grants.filter((g) => (g.namespace === 'cluster' || g.namespace === ns) && allows(g.rule, need, name));
        t.ok(hits.length > 0, `${need.verb} ${need.group || 'core'}/${need.resource}${name ? `/${name}` : ''} in ${ns}`);
        for (const h of hits) used.add(h.rule);
      }
      if (overlay === 'ha') {
        t.equal(opts.leaderElect, true);
        for (const g of grants) {
          if (!Object.values(UPSTREAM_ROLES).flat().includes(g.rule)) t.ok(used.has(g.rule), `${g.role}: rule ${JSON.stringify(g.rule)} is needed by a call`);
        }
      }
    });
  }
});

t.test('the coverage check fails a missing verb', async (t) => {
  const need: Need = { group: '', resource: 'persistentvolumes', verb: 'delete', namespace: 'cluster' };
  t.notOk(allows({ apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'create'] }, need, undefined));
  t.notOk(allows({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['x'], verbs: ['create'] }, { ...need, group: 'coordination.k8s.io', resource: 'leases', verb: 'create' }, 'x'));
  t.ok(allows({ apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'], verbs: ['list'] }, { ...need, resource: 'configmaps', verb: 'list' }, 'a'));
});
