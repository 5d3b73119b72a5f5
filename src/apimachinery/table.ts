// meta.k8s.io Table output (k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor and
// k8s.io/apiserver/pkg/endpoints/handlers/response.go): columnDefinitions, one row per object with its cells and, per
// `includeObject`, nothing, a PartialObjectMetadata (default) or the whole object.

import type { KubeObject, ResourceDefinition } from './resource-definition.js';
import { ageOf } from './human-duration.js';
import { StatusError } from './status-error.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';
export type MetaVersion = 'v1' | 'v1beta1';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';

export function parseIncludeObject(value: string | undefined): IncludeObject {
  if (value === undefined || value === '' || value === 'Metadata') return 'Metadata';
  if (value === 'None' || value === 'Object') return value;
  throw StatusError.badRequest(`includeObject: Unsupported value: "${value}": supported values: "None", "Metadata", "Object"`);
}

export function columnDefinitionsOf(def: ResourceDefinition): TableColumnDefinition[] {
  const columns = def.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority }));
  const name = { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: def.nameColumnLastAndWide ? 1 : 0 };
  return def.nameColumnLastAndWide ? [...columns, name] : [name, ...columns];
}

export function partialObjectMetadata(obj: KubeObject, version: MetaVersion = 'v1'): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

export function tableRow(def: ResourceDefinition, obj: KubeObject, includeObject: IncludeObject, now: Date, version: MetaVersion = 'v1'): TableRow {
  const cells: unknown[] = def.columns.map((c) => {
    const v = c.cell(obj);
    return c.type === 'date' && typeof v === 'string' ? ageOf(v, now) : (v ?? null);
  });
  if (def.nameColumnLastAndWide) cells.push(obj.metadata.name);
  else cells.unshift(obj.metadata.name);
  const row: TableRow = { cells };
  if (includeObject === 'Metadata') row.object = partialObjectMetadata(obj, version);
  else if (includeObject === 'Object') row.object = obj;
  return row;
}

export interface TableOptions {
  includeObject: IncludeObject;
  now: Date;
  version?: MetaVersion;
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
  /** Watch events after the first carry no column definitions. */
  omitColumns?: boolean;
}

export function buildTable(def: ResourceDefinition, objects: KubeObject[], options: TableOptions): Table {
  const version = options.version ?? 'v1';
  const metadata: Table['metadata'] = {};
  if (options.resourceVersion !== undefined) metadata.resourceVersion = options.resourceVersion;
  if (options.continue) metadata.continue = options.continue;
  if (options.remainingItemCount !== undefined) metadata.remainingItemCount = options.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata,
    columnDefinitions: options.omitColumns ? null : columnDefinitionsOf(def),
    rows: objects.map((o) => tableRow(def, o, options.includeObject, options.now, version)),
  };
}
