// Discovery documents (k8s.io/apiserver/pkg/endpoints/discovery): legacy /api, /apis, /apis/<g>, /apis/<g>/<v>,
// /api/v1, and aggregated discovery (apidiscovery.k8s.io v2 / v2beta1) for /api and /apis when Accept asks for it.

import { createHash } from 'node:crypto';
import {
  STATUS_VERBS,
  apiVersionOf,
  verbsOf,
  type ResourceDefinition,
} from './resource-definition.js';
import { echoParams, parseAccept } from './content-negotiation.js';
import { StatusError } from './status-error.js';
import { encodeJson } from './json-encoding.js';

/** apimachinery's discovery.StorageVersionHash: base64 of the first 8 bytes of sha256("<group>/<version>/<kind>"). */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

export interface GroupVersions {
  group: string;
  versions: string[];
}

/** Groups (core excluded) with their versions, in the order the definitions first name them. */
export function groupsOf(defs: readonly ResourceDefinition[]): GroupVersions[] {
  const out: GroupVersions[] = [];
  for (const d of defs) {
    if (!d.group) continue;
    let g = out.find((x) => x.group === d.group);
    if (!g) {
      g = { group: d.group, versions: [] };
      out.push(g);
    }
    if (!g.versions.includes(d.version)) g.versions.push(d.version);
  }
  return out;
}

function groupDoc(g: GroupVersions): Record<string, unknown> {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v }));
  return { name: g.group, versions, preferredVersion: versions[0] };
}

export function apiVersionsDoc(defs: readonly ResourceDefinition[]): Record<string, unknown> {
  const versions = [...new Set(defs.filter((d) => !d.group).map((d) => d.version))];
  return {
    kind: 'APIVersions',
    versions,
    serverAddressByClientCIDRs: versions.length ? [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] : undefined,
  };
}

export function apiGroupListDoc(defs: readonly ResourceDefinition[]): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupsOf(defs).map(groupDoc) };
}

export function apiGroupDoc(defs: readonly ResourceDefinition[], group: string): Record<string, unknown> | undefined {
  const g = groupsOf(defs).find((x) => x.group === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g) } : undefined;
}

export function apiResourceListDoc(
  defs: readonly ResourceDefinition[],
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const mine = defs.filter((d) => d.group === group && d.version === version);
  if (mine.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const d of mine) {
    const r: Record<string, unknown> = {
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: verbsOf(d),
    };
    if (d.shortNames?.length) r.shortNames = d.shortNames;
    if (d.categories?.length) r.categories = d.categories;
    // Nothing stored, no storage version (kube-apiserver leaves it out for the access reviews).
    if (!d.computeCreate) r.storageVersionHash = storageVersionHash(d.group, d.version, d.kind);
    resources.push(r);
    if (d.subresources.status) {
      resources.push({ name: `${d.plural}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: STATUS_VERBS });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}

// ---- aggregated discovery ----

function discoveryResources(defs: ResourceDefinition[]): Record<string, unknown>[] {
  return defs.map((d) => {
    const responseKind = { group: d.group, version: d.version, kind: d.kind };
    const r: Record<string, unknown> = {
      resource: d.plural,
      responseKind,
      scope: d.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: d.singular,
      verbs: verbsOf(d),
    };
    if (d.shortNames?.length) r.shortNames = d.shortNames;
    if (d.categories?.length) r.categories = d.categories;
    if (d.subresources.status) r.subresources = [{ subresource: 'status', responseKind, verbs: STATUS_VERBS }];
    return r;
  });
}

/** APIGroupDiscoveryList for `/apis` (core = false) or `/api` (core = true). */
export function aggregatedDiscoveryDoc(
  defs: readonly ResourceDefinition[],
  core: boolean,
  apiVersion: 'v2' | 'v2beta1',
): Record<string, unknown> {
  const items: Record<string, unknown>[] = [];
  if (core) {
    const coreDefs = defs.filter((d) => !d.group);
    const versions = [...new Set(coreDefs.map((d) => d.version))];
    if (versions.length) {
      items.push({
        metadata: { creationTimestamp: null },
        versions: versions.map((v) => ({
          version: v,
          resources: discoveryResources(coreDefs.filter((d) => d.version === v)),
          freshness: 'Current',
        })),
      });
    }
  } else {
    for (const g of groupsOf(defs)) {
      items.push({
        metadata: { name: g.group, creationTimestamp: null },
        versions: g.versions.map((v) => ({
          version: v,
          resources: discoveryResources(defs.filter((d) => d.group === g.group && d.version === v)),
          freshness: 'Current',
        })),
      });
    }
  }
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${apiVersion}`, metadata: {}, items };
}

export type DiscoveryFormat = { kind: 'legacy' } | { kind: 'aggregated'; version: 'v2' | 'v2beta1'; contentType: string };

/**
 * Aggregated discovery when an Accept clause asks for it before any plain JSON clause; otherwise legacy JSON
 * (never 406 when JSON is acceptable); 406 only when nothing listed is ours.
 */
export function negotiateDiscovery(accept: string | undefined, aggregatedAllowed: boolean): DiscoveryFormat {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return { kind: 'legacy' };
  for (const r of ranges) {
    const json = (r.type === 'application' && (r.subtype === 'json' || r.subtype === '*')) || (r.type === '*' && r.subtype === '*');
    if (!json) continue;
    const { as, g, v } = r.params;
    if (!as) return { kind: 'legacy' };
    if (aggregatedAllowed && as === 'APIGroupDiscoveryList' && g === 'apidiscovery.k8s.io' && (v === 'v2' || v === 'v2beta1')) {
      return { kind: 'aggregated', version: v, contentType: echoParams(r) };
    }
  }
  throw StatusError.notAcceptable(['application/json', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList']);
}

/** A strong ETag over the exact bytes served. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
}

export function encodeDiscovery(doc: unknown): string {
  return encodeJson(doc);
}
