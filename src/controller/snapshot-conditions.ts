// Condition transitions of VolumeSnapshot and VolumeSnapshotData (external-storage snapshot/pkg/controller/
// snapshotter/snapshotter.go UpdateVolumeSnapshotStatus, without its defects): a condition of a new type is
// appended, one of the same type replaced; lastTransitionTime moves only when the status flips; the one True
// condition (Pending, Ready or Error) describes the object, the others are set False.

import type { ConditionType, VolumeSnapshotCondition } from '../apis/volumesnapshot/v1/types.js';

export const PENDING_MESSAGE = 'Snapshot is being created';
export const READY_MESSAGE = 'Snapshot created successfully';

/** Sets `next` in `conditions` (a new list): replaced by type, appended when new, time kept unless the status flips. */
export function setCondition(
  conditions: readonly VolumeSnapshotCondition[] | undefined,
  next: Omit<VolumeSnapshotCondition, 'lastTransitionTime'>,
  now: string,
): VolumeSnapshotCondition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const previous = i >= 0 ? list[i] : undefined;
  const lastTransitionTime = previous && previous.status === next.status && previous.lastTransitionTime ? previous.lastTransitionTime : now;
  const cond: VolumeSnapshotCondition = { type: next.type, status: next.status, lastTransitionTime };
  if (next.reason !== undefined) cond.reason = next.reason;
  if (next.message !== undefined) cond.message = next.message;
  if (i >= 0) list[i] = cond;
  else list.push(cond);
  return list;
}

/**
 * Makes `type` the True condition with `reason`/`message`; every other condition present becomes False (its
 * message kept), so readers that look for any True condition see one answer.
 */
export function transitionTo(
  conditions: readonly VolumeSnapshotCondition[] | undefined,
  type: ConditionType,
  reason: string,
  message: string,
  now: string,
): VolumeSnapshotCondition[] {
  let list = [...(conditions ?? [])];
  for (const c of conditions ?? []) {
    if (c.type !== type && c.status !== 'False') {
      list = setCondition(list, { type: c.type, status: 'False', reason: c.reason, message: c.message }, now);
    }
  }
  return setCondition(list, { type, status: 'True', reason, message }, now);
}

export function isTrue(conditions: readonly VolumeSnapshotCondition[] | undefined, type: ConditionType): boolean {
  return !!conditions?.some((c) => c.type === type && c.status === 'True');
}

export function conditionOf(
  conditions: readonly VolumeSnapshotCondition[] | undefined,
  type: ConditionType,
): VolumeSnapshotCondition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The Pending message while the cloud works: progress when the cloud reports it. */
export function pendingMessage(progress: number | undefined): string {
  return progress === undefined ? PENDING_MESSAGE : `${PENDING_MESSAGE} (${Math.round(progress)}% done)`;
}
