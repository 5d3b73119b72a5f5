// Pieces of ResourceDefinition columns (and selectable fields) that the kinds share.

import type { ColumnDefinition } from './resource-definition.js';

/**
 * The Age column: metadata.creationTimestamp as a date, described as upstream's default table convertor describes it
 * (k8s.io/apiserver/pkg/registry/rest/table.go, swaggerMetadataDescriptions["creationTimestamp"]).
 */
export const ageColumn: ColumnDefinition = {
  name: 'Age',
  type: 'date',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.',
  priority: 0,
  cell: (o) => textOrNone(o.metadata.creationTimestamp),
};

/** A string field as a cell; absent or empty is <none>, as the CRD table convertor prints a missing value. */
export function textOrNone(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * A string field's value; absent is '', as Go's zero value reaches the built-in printers (pkg/printers/internalversion)
 * and the strategies' selectable fields.
 */
export function textOrEmpty(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
