// The decisions of kube-controller-manager's PV controller that a local cluster needs, as pure functions
// (pkg/controller/volume/persistentvolume/pv_controller.go syncClaim/syncVolume and
// component-helpers/storage/volume/pv_helpers.go FindMatchingVolume). The binder (binder.ts) carries them out.

import type { KubeObject } from '../apimachinery/resource-definition.js';
import { labelSelectorFromMeta, type MetaLabelSelector } from '../apimachinery/label-selector.js';
import { claimClass, type ClaimShape } from './persistent-volume-claims.js';
import { volumeClass, type VolumeShape } from './persistent-volumes.js';
import { quantityOf } from './core-validation.js';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
export const CONTROLLER_COMPONENT = 'persistentvolume-controller';

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface ClassInfo {
  provisioner: string;
  volumeBindingMode?: string;
}

export type ClaimDecision =
  | { action: 'none' }
  /** Make the pair bound (each write only when it differs): PV claimRef, PV Bound, PVC volumeName + annotations, PVC Bound. */
  | { action: 'bind'; volume: KubeObject; boundByController: boolean }
  /** Keep the claim Pending; record `event`; set the provisioner annotations when `provisioner` is given. */
  | { action: 'pending'; event?: EventSpec; provisioner?: string }
  | { action: 'lost'; event: EventSpec };

export type VolumeDecision =
  | { action: 'none' }
  /** Set the phase; `unbind` clears the claimRef ('all', the controller's own binding) or only its uid ('uid'). */
  | { action: 'update'; phase: 'Available' | 'Bound' | 'Released' | 'Failed'; unbind?: 'all' | 'uid'; event?: EventSpec; message?: string };

const claim = (o: KubeObject) => o as unknown as ClaimShape;
const volume = (o: KubeObject) => o as unknown as VolumeShape;

function annotation(o: KubeObject, key: string): string | undefined {
  return (o.metadata.annotations as Record<string, string> | undefined)?.[key];
}

/** In-tree provisioners are `kubernetes.io/…`; anything else is an external provisioner (the lead's webhooks' promoter). */
export function isExternalProvisioner(provisioner: string): boolean {
  return provisioner !== '' && !provisioner.startsWith('kubernetes.io/');
}

/** IsVolumeBoundToClaim: the claimRef names the claim, with its uid or none. */
export function isVolumeBoundToClaim(pv: KubeObject, pvc: KubeObject): boolean {
  const ref = volume(pv).spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata.name || ref.namespace !== pvc.metadata.namespace) return false;
  return !ref.uid || ref.uid === pvc.metadata.uid;
}

function volumeModeOf(mode: string | null | undefined): string {
  return mode || 'Filesystem';
}

export function volumeModeMismatch(pvc: KubeObject, pv: KubeObject): boolean {
  return volumeModeOf(claim(pvc).spec?.volumeMode) !== volumeModeOf(volume(pv).spec?.volumeMode);
}

/** CheckAccessModes: every mode the claim asks for is one the volume has. */
export function accessModesSatisfy(pvModes: string[] | undefined, claimModes: string[] | undefined): boolean {
  const have = new Set(pvModes ?? []);
  return (claimModes ?? []).every((m) => have.has(m));
}

function requested(pvc: KubeObject) {
  return quantityOf(claim(pvc).spec?.resources?.requests?.storage);
}

function capacity(pv: KubeObject) {
  return quantityOf(volume(pv).spec?.capacity?.storage);
}

function tooSmall(pv: KubeObject, pvc: KubeObject): boolean {
  const want = requested(pvc);
  const have = capacity(pv);
  if (!want) return false;
  return !have || have.cmp(want) < 0;
}

/** checkVolumeSatisfyClaim: why a user-chosen volume cannot serve the claim, or undefined. */
export function volumeSatisfiesClaimError(pv: KubeObject, pvc: KubeObject): string | undefined {
  if (pv.metadata.deletionTimestamp) return `the volume is marked for deletion "${pv.metadata.name}"`;
  if (tooSmall(pv, pvc)) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(pvc)) return 'storageClassName does not match';
  if (volumeModeMismatch(pvc, pv)) return 'incompatible volumeMode';
  if (!accessModesSatisfy(volume(pv).spec?.accessModes, claim(pvc).spec?.accessModes)) return 'incompatible accessMode';
  return undefined;
}

function selectorMatches(pvc: KubeObject, pv: KubeObject): boolean {
  const sel = claim(pvc).spec?.selector;
  if (sel === undefined || sel === null) return true;
  try {
    return labelSelectorFromMeta(sel as MetaLabelSelector).matches(volume(pv).metadata.labels ?? {});
  } catch {
    return false;
  }
}

/**
 * findBestMatchForClaim: volumes grouped by their access-mode set, the tightest sets that still hold every mode the
 * claim asks for first; within a group a volume pre-bound to the claim wins at once, else the smallest Available
 * unclaimed volume of the claim's class, selector and volumeMode whose capacity covers the request.
 * `delayBinding` (WaitForFirstConsumer) leaves all but pre-bound volumes to the scheduler.
 */
export function findBestMatch(pvc: KubeObject, pvs: KubeObject[], delayBinding = false): KubeObject | undefined {
  const claimModes = claim(pvc).spec?.accessModes ?? [];
  const groups = new Map<string, KubeObject[]>();
  for (const pv of pvs) {
    const modes = [...new Set(volume(pv).spec?.accessModes ?? [])].sort();
    if (!accessModesSatisfy(modes, claimModes)) continue;
    const key = modes.join(',');
    groups.set(key, [...(groups.get(key) ?? []), pv]);
  }
  const ordered = [...groups.entries()].sort((a, b) => a[0].split(',').length - b[0].split(',').length || a[0].localeCompare(b[0]));
  const cls = claimClass(pvc);
  for (const [, members] of ordered) {
    let best: KubeObject | undefined;
    for (const pv of members) {
      if (tooSmall(pv, pvc)) continue;
      if (volumeModeMismatch(pvc, pv)) continue;
      if (pv.metadata.deletionTimestamp) continue;
      if (isVolumeBoundToClaim(pv, pvc)) return pv;
      if (delayBinding) continue;
      if (volume(pv).status?.phase !== 'Available') continue;
      if (volume(pv).spec?.claimRef) continue;
      if (!selectorMatches(pvc, pv)) continue;
      if (volumeClass(pv) !== cls) continue;
      const size = capacity(pv);
      const bestSize = best ? capacity(best) : undefined;
      if (!best || (size && bestSize && bestSize.cmp(size) > 0)) best = pv;
    }
    if (best) return best;
  }
  return undefined;
}

export function externalProvisioningMessage(provisioner: string): string {
  return `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`;
}

/** syncClaim: what to do with one claim, given every volume and the storage classes by name. */
export function decideClaim(pvc: KubeObject, pvs: KubeObject[], classes: Map<string, ClassInfo>): ClaimDecision {
  if (pvc.metadata.deletionTimestamp) return { action: 'none' };
  const c = claim(pvc);
  const volumeName = c.spec?.volumeName ?? '';
  const byName = (name: string) => pvs.find((pv) => pv.metadata.name === name);

  if (annotation(pvc, ANN_BIND_COMPLETED) === undefined) {
    if (volumeName === '') {
      const className = claimClass(pvc);
      const sc = className ? classes.get(className) : undefined;
      const match = findBestMatch(pvc, pvs, sc?.volumeBindingMode === 'WaitForFirstConsumer');
      if (match) return { action: 'bind', volume: match, boundByController: true };
      if (className === '') {
        return { action: 'pending', event: { type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' } };
      }
      if (!sc) {
        return { action: 'pending', event: { type: 'Warning', reason: 'ProvisioningFailed', message: `storageclass.storage.k8s.io "${className}" not found` } };
      }
      if (sc.volumeBindingMode === 'WaitForFirstConsumer') {
        return { action: 'pending', event: { type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' } };
      }
      if (!isExternalProvisioner(sc.provisioner)) {
        return { action: 'pending', event: { type: 'Warning', reason: 'ProvisioningFailed', message: `no volume plugin matched name: ${sc.provisioner}` } };
      }
      return {
        action: 'pending',
        provisioner: sc.provisioner,
        event: { type: 'Normal', reason: 'ExternalProvisioning', message: externalProvisioningMessage(sc.provisioner) },
      };
    }
    const pv = byName(volumeName);
    // The user asked for a volume that does not exist (yet): wait.
    if (!pv) return { action: 'pending' };
    const ref = volume(pv).spec?.claimRef;
    if (!ref) {
      const problem = volumeSatisfiesClaimError(pv, pvc);
      if (problem) {
        return { action: 'pending', event: { type: 'Warning', reason: 'VolumeMismatch', message: `Cannot bind to requested volume "${volumeName}": ${problem}` } };
      }
      return { action: 'bind', volume: pv, boundByController: false };
    }
    if (isVolumeBoundToClaim(pv, pvc)) return { action: 'bind', volume: pv, boundByController: false };
    // Claimed by someone else; the user asked for it, so wait for it to be freed.
    return { action: 'pending' };
  }

  // The claim was bound.
  const lost = (message: string): ClaimDecision => ({ action: 'lost', event: { type: 'Warning', reason: 'ClaimLost', message } });
  if (volumeName === '') return lost('Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
  const pv = byName(volumeName);
  if (!pv) return lost('Bound claim has lost its PersistentVolume. Data on the volume is lost!');
  const ref = volume(pv).spec?.claimRef;
  const boundByController = annotation(pvc, ANN_BOUND_BY_CONTROLLER) !== undefined;
  if (!ref) return { action: 'bind', volume: pv, boundByController };
  if (ref.uid === pvc.metadata.uid) return { action: 'bind', volume: pv, boundByController };
  return { action: 'lost', event: { type: 'Warning', reason: 'ClaimMisbound', message: 'Two claims are bound to the same volume, this one is bound incorrectly' } };
}

function phaseIs(pv: KubeObject, phase: string): boolean {
  return volume(pv).status?.phase === phase;
}

function setPhase(pv: KubeObject, phase: 'Available' | 'Bound' | 'Released' | 'Failed', extra: Partial<Extract<VolumeDecision, { action: 'update' }>> = {}): VolumeDecision {
  if (phaseIs(pv, phase) && !extra.unbind && !extra.event) return { action: 'none' };
  return { action: 'update', phase, ...extra };
}

/**
 * syncVolume (and reclaimVolume): what to do with one volume, given the claim its claimRef names (undefined when it
 * does not exist or is another object of the same name, i.e. a different uid).
 */
export function decideVolume(pv: KubeObject, boundClaim: KubeObject | undefined): VolumeDecision {
  if (pv.metadata.deletionTimestamp) return { action: 'none' };
  const v = volume(pv);
  const ref = v.spec?.claimRef;
  if (!ref || !ref.uid) return setPhase(pv, 'Available');
  const pvc = boundClaim && boundClaim.metadata.uid === ref.uid ? boundClaim : undefined;
  if (!pvc) {
    if (!phaseIs(pv, 'Released') && !phaseIs(pv, 'Failed')) return { action: 'update', phase: 'Released' };
    if (phaseIs(pv, 'Failed')) return { action: 'none' };
    switch (v.spec?.persistentVolumeReclaimPolicy ?? 'Retain') {
      case 'Retain':
        return { action: 'none' };
      case 'Delete': {
        const provisioner = annotation(pv, ANN_DYNAMICALLY_PROVISIONED);
        // The external provisioner that made it deletes the volume and then the PV (sig-storage-lib-external-provisioner).
        if (provisioner && isExternalProvisioner(provisioner)) return { action: 'none' };
        return {
          action: 'update',
          phase: 'Failed',
          message: `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched`,
          event: {
            type: 'Warning',
            reason: 'VolumeFailedDelete',
            message: `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched`,
          },
        };
      }
      default:
        return {
          action: 'update',
          phase: 'Failed',
          message: 'No recycler plugin found for the volume!',
          event: { type: 'Warning', reason: 'VolumeFailedRecycle', message: 'No recycler plugin found for the volume!' },
        };
    }
  }
  const claimVolume = claim(pvc).spec?.volumeName ?? '';
  // Bound to a claim that is not bound yet: the claim's sync finishes the binding.
  if (claimVolume === '') return { action: 'none' };
  if (claimVolume === pv.metadata.name) return setPhase(pv, 'Bound');
  // The claim is bound to another volume.
  const provisioned = annotation(pv, ANN_DYNAMICALLY_PROVISIONED) !== undefined;
  if (provisioned && v.spec?.persistentVolumeReclaimPolicy === 'Delete') {
    return phaseIs(pv, 'Released') || phaseIs(pv, 'Failed') ? { action: 'none' } : { action: 'update', phase: 'Released' };
  }
  return { action: 'update', phase: 'Available', unbind: annotation(pv, ANN_BOUND_BY_CONTROLLER) !== undefined ? 'all' : 'uid' };
}
