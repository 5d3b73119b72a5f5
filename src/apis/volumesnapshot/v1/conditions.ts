// Reading the snapshot conditions for printing: the condition that describes the object now.
import type { VolumeSnapshotCondition } from './types.js';

const precedence = ['Error', 'Ready', 'Pending'];

/** The True condition that matters most (Error over Ready over Pending), else the latest one. */
export function currentCondition(conditions: unknown): VolumeSnapshotCondition | undefined {
  if (!Array.isArray(conditions) || conditions.length === 0) return undefined;
  const list = conditions as VolumeSnapshotCondition[];
  for (const type of precedence) {
    const c = list.find((x) => x && x.type === type && x.status === 'True');
    if (c) return c;
  }
  return list[list.length - 1];
}

/** The STATUS column: the type of the current True condition, or `Not<Type>` when it is False/Unknown. */
export function conditionStatus(conditions: unknown): string | undefined {
  const c = currentCondition(conditions);
  if (!c) return undefined;
  return c.status === 'True' ? c.type : `Not${c.type}`;
}
