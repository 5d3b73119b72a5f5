// The local cluster's PV binder: the part of kube-controller-manager's PV controller this story needs. It watches
// claims, volumes and storage classes through the Registry (plus a periodic resync), decides with binding-rules.ts and
// writes through the Registry — so validation and resourceVersion rules hold for it too; a Conflict is retried
// against a fresh read. One key is synced at a time: the local cluster is small and this keeps the writes ordered.

import type { Registry, RegistryWatch } from '../apimachinery/registry.js';
import type { KubeObject } from '../apimachinery/resource-definition.js';
import { StatusError } from '../apimachinery/status-error.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_STORAGE_PROVISIONER,
  CONTROLLER_COMPONENT,
  decideClaim,
  decideVolume,
  isVolumeBoundToClaim,
  type ClassInfo,
  type EventSpec,
} from './binding-rules.js';
import { EventRecorder, type LocalClusterLogger } from './event-recorder.js';
import { PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, STORAGE_CLASSES } from './definitions.js';
import type { ClaimShape } from './persistent-volume-claims.js';
import type { VolumeShape } from './persistent-volumes.js';
import { semanticEqual } from './core-validation.js';

export interface BinderOptions {
  log: LocalClusterLogger;
  /** Period of the full resync (upstream's PV controller: 15 s). */
  resyncMs?: number;
  clock?: () => Date;
  recorder?: EventRecorder;
}

const MAX_CONFLICT_RETRIES = 5;

type Key = `claim:${string}/${string}` | `volume:${string}`;

function isConflict(err: unknown): boolean {
  return err instanceof StatusError && err.reason === 'Conflict';
}

function isNotFound(err: unknown): boolean {
  return err instanceof StatusError && err.reason === 'NotFound';
}

export class Binder {
  private readonly recorder: EventRecorder;
  private readonly queue = new Set<Key>();
  private running = false;
  private draining: Promise<void> | undefined;
  private readonly watches = new Set<RegistryWatch>();
  private readonly loops: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  /** The last event recorded per object, so that the binder's own writes do not repeat it before the next resync. */
  private readonly lastEvent = new Map<string, { key: string; at: number }>();

  constructor(
    private readonly registry: Registry,
    private readonly options: BinderOptions,
  ) {
    this.recorder = options.recorder ?? new EventRecorder(registry, { component: CONTROLLER_COMPONENT, clock: options.clock, log: options.log });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const resource of [PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, STORAGE_CLASSES]) {
      const rv = await this.enqueueFromList(resource);
      this.loops.push(this.watchLoop(resource, rv));
    }
    const resyncMs = this.options.resyncMs ?? 15_000;
    this.resyncTimer = setInterval(() => void this.resync(), resyncMs);
    this.resyncTimer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const w of this.watches) w.stop();
    await Promise.allSettled(this.loops);
    await this.draining;
  }

  /** Resolves once every queued key has been synced (tests wait on it). */
  async idle(): Promise<void> {
    while (this.draining || this.queue.size > 0) {
      this.kick();
      await this.draining;
    }
  }

  /** Lists everything again and syncs every claim and volume. */
  async resync(): Promise<void> {
    if (!this.running) return;
    try {
      await this.enqueueFromList(PERSISTENT_VOLUME_CLAIMS);
      await this.enqueueFromList(PERSISTENT_VOLUMES);
      this.kick();
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'binder resync failed');
    }
  }

  // ------------------------------------------------------------ queue

  private enqueueObject(resource: string, obj: KubeObject): void {
    if (resource === PERSISTENT_VOLUME_CLAIMS) {
      this.queue.add(`claim:${obj.metadata.namespace ?? ''}/${obj.metadata.name}`);
      const volumeName = (obj as unknown as ClaimShape).spec?.volumeName;
      if (volumeName) this.queue.add(`volume:${volumeName}`);
    } else if (resource === PERSISTENT_VOLUMES) {
      this.queue.add(`volume:${obj.metadata.name}`);
      const ref = (obj as unknown as VolumeShape).spec?.claimRef;
      if (ref?.name) this.queue.add(`claim:${ref.namespace ?? ''}/${ref.name}`);
    }
  }

  private async enqueueFromList(resource: string): Promise<string> {
    const list = await this.registry.list(resource);
    if (resource === STORAGE_CLASSES) await this.enqueueFromList(PERSISTENT_VOLUME_CLAIMS);
    else for (const item of list.items) this.enqueueObject(resource, item);
    return list.metadata.resourceVersion;
  }

  private kick(): void {
    if (this.draining || this.queue.size === 0) return;
    this.draining = (async () => {
      try {
        while (this.queue.size > 0) {
          const [key] = this.queue;
          this.queue.delete(key);
          try {
            await this.syncKey(key);
          } catch (err) {
            this.options.log.warn({ key, err: (err as Error).message }, 'binder sync failed; retrying at the next resync');
          }
        }
      } finally {
        this.draining = undefined;
      }
    })();
  }

  private async watchLoop(resource: string, fromRv: string): Promise<void> {
    let rv = fromRv;
    while (this.running) {
      let w: RegistryWatch | undefined;
      try {
        w = this.registry.watch(resource, { resourceVersion: rv });
        this.watches.add(w);
        for await (const e of w) {
          if (!this.running) break;
          if (e.type === 'BOOKMARK') continue;
          rv = String(e.object.metadata.resourceVersion ?? rv);
          if (resource === STORAGE_CLASSES) await this.enqueueFromList(PERSISTENT_VOLUME_CLAIMS);
          else this.enqueueObject(resource, e.object);
          // A deleted claim releases its volume: sync the volumes that name it.
          if (resource === PERSISTENT_VOLUME_CLAIMS && e.type === 'DELETED') await this.enqueueFromList(PERSISTENT_VOLUMES);
          this.kick();
        }
      } catch (err) {
        if (!this.running) break;
        // 410 Expired and friends: list again and watch from there (what a reflector does).
        this.options.log.warn({ resource, err: (err as Error).message }, 'binder watch ended; listing again');
        await new Promise((r) => setTimeout(r, 200));
        try {
          rv = await this.enqueueFromList(resource);
          this.kick();
        } catch {
          // the next round retries
        }
      } finally {
        if (w) {
          this.watches.delete(w);
          w.stop();
        }
      }
    }
  }

  private async syncKey(key: Key): Promise<void> {
    if (key.startsWith('claim:')) {
      const [namespace, name] = key.slice('claim:'.length).split('/');
      await this.syncClaim(namespace, name);
    } else {
      await this.syncVolume(key.slice('volume:'.length));
    }
  }

  // ------------------------------------------------------------ claims

  /** Records an event unless the same one was recorded for the object within the resync period (upstream records
   * once per sync, and syncs once per resync). */
  private async record(obj: KubeObject, event: EventSpec): Promise<void> {
    const uid = String(obj.metadata.uid ?? '');
    const key = `${event.type}|${event.reason}|${event.message}`;
    const now = (this.options.clock ?? (() => new Date()))().getTime();
    const last = this.lastEvent.get(uid);
    if (last && last.key === key && now - last.at < (this.options.resyncMs ?? 15_000)) return;
    this.lastEvent.set(uid, { key, at: now });
    if (this.lastEvent.size > 10_000) this.lastEvent.delete(this.lastEvent.keys().next().value as string);
    await this.recorder.record(obj, event);
  }

  private async getOrUndefined(resource: string, target: { namespace?: string; name: string }): Promise<KubeObject | undefined> {
    try {
      return await this.registry.get(resource, target);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async classes(): Promise<Map<string, ClassInfo>> {
    const list = await this.registry.list(STORAGE_CLASSES);
    const out = new Map<string, ClassInfo>();
    for (const sc of list.items) {
      const s = sc as unknown as { provisioner?: string; volumeBindingMode?: string };
      out.set(sc.metadata.name, { provisioner: s.provisioner ?? '', volumeBindingMode: s.volumeBindingMode });
    }
    return out;
  }

  async syncClaim(namespace: string, name: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const pvc = await this.getOrUndefined(PERSISTENT_VOLUME_CLAIMS, { namespace, name });
        if (!pvc) return;
        const volumes = (await this.registry.list(PERSISTENT_VOLUMES)).items;
        const decision = decideClaim(pvc, volumes, await this.classes());
        switch (decision.action) {
          case 'none':
            return;
          case 'bind':
            await this.bind(pvc, decision.volume, decision.boundByController);
            return;
          case 'pending': {
            let current = pvc;
            if (decision.provisioner) current = await this.setProvisioner(current, decision.provisioner);
            current = await this.setClaimPhase(current, 'Pending');
            if (decision.event) await this.record(current, decision.event);
            return;
          }
          case 'lost': {
            const current = await this.setClaimPhase(pvc, 'Lost');
            await this.record(current, decision.event);
            return;
          }
        }
      } catch (err) {
        if (isConflict(err) && attempt < MAX_CONFLICT_RETRIES) continue;
        throw err;
      }
    }
  }

  private async setProvisioner(pvc: KubeObject, provisioner: string): Promise<KubeObject> {
    const ann = (pvc.metadata.annotations as Record<string, string> | undefined) ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] === provisioner && ann[ANN_BETA_STORAGE_PROVISIONER] === provisioner) return pvc;
    const next = structuredClone(pvc);
    next.metadata.annotations = { ...ann, [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner };
    this.options.log.info({ claim: `${pvc.metadata.namespace}/${pvc.metadata.name}`, provisioner }, 'claim waits for its external provisioner');
    return this.registry.update(PERSISTENT_VOLUME_CLAIMS, next, { namespace: pvc.metadata.namespace, name: pvc.metadata.name });
  }

  private async setClaimPhase(pvc: KubeObject, phase: 'Pending' | 'Lost'): Promise<KubeObject> {
    const status = (pvc as unknown as ClaimShape).status ?? {};
    if (status.phase === phase) return pvc;
    const next = structuredClone(pvc) as KubeObject & { status?: Record<string, unknown> };
    next.status = { ...status, phase };
    return this.registry.updateStatus(PERSISTENT_VOLUME_CLAIMS, next, { namespace: pvc.metadata.namespace, name: pvc.metadata.name });
  }

  /** REFERENCE §8's bind writes, in the controller's order, each only when it changes something. */
  private async bind(pvc: KubeObject, pv: KubeObject, boundByController: boolean): Promise<void> {
    const ns = pvc.metadata.namespace;
    // 1. PV claimRef (and bound-by-controller when the controller chose this pairing).
    let volume = pv;
    const ref = (pv as unknown as VolumeShape).spec?.claimRef;
    const refMatches = !!ref && ref.name === pvc.metadata.name && ref.namespace === ns && ref.uid === pvc.metadata.uid;
    const annotatePv = !isVolumeBoundToClaim(pv, pvc);
    if (!refMatches) {
      const next = structuredClone(pv) as KubeObject & { spec: Record<string, unknown> };
      next.spec.claimRef = {
        kind: 'PersistentVolumeClaim',
        namespace: ns,
        name: pvc.metadata.name,
        uid: pvc.metadata.uid,
        apiVersion: 'v1',
        resourceVersion: pvc.metadata.resourceVersion,
      };
      if (annotatePv) next.metadata.annotations = { ...((pv.metadata.annotations as Record<string, string>) ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      volume = await this.registry.update(PERSISTENT_VOLUMES, next, { name: pv.metadata.name });
      this.options.log.info({ volume: pv.metadata.name, claim: `${ns}/${pvc.metadata.name}` }, 'volume bound to claim');
    }
    // 2. PV status Bound.
    if ((volume as unknown as VolumeShape).status?.phase !== 'Bound') {
      const next = structuredClone(volume) as KubeObject & { status?: Record<string, unknown> };
      next.status = { ...((volume as unknown as VolumeShape).status ?? {}), phase: 'Bound' };
      volume = await this.registry.updateStatus(PERSISTENT_VOLUMES, next, { name: pv.metadata.name });
    }
    // 3. PVC volumeName + annotations.
    let claim = pvc;
    const c = pvc as unknown as ClaimShape;
    const ann = (pvc.metadata.annotations as Record<string, string> | undefined) ?? {};
    const wantAnn: Record<string, string> = { ...ann, [ANN_BIND_COMPLETED]: 'yes' };
    if (boundByController) wantAnn[ANN_BOUND_BY_CONTROLLER] = 'yes';
    if (c.spec?.volumeName !== pv.metadata.name || !semanticEqual(ann, wantAnn)) {
      const next = structuredClone(pvc) as KubeObject & { spec: Record<string, unknown> };
      next.spec.volumeName = pv.metadata.name;
      next.metadata.annotations = wantAnn;
      claim = await this.registry.update(PERSISTENT_VOLUME_CLAIMS, next, { namespace: ns, name: pvc.metadata.name });
    }
    // 4. PVC status Bound with the volume's capacity and access modes.
    const v = volume as unknown as VolumeShape;
    const status = (claim as unknown as ClaimShape).status ?? {};
    const wantStatus = { ...status, phase: 'Bound', accessModes: v.spec?.accessModes ?? [], capacity: v.spec?.capacity ?? {} };
    if (!semanticEqual(status, wantStatus)) {
      const next = structuredClone(claim) as KubeObject & { status?: Record<string, unknown> };
      next.status = wantStatus;
      await this.registry.updateStatus(PERSISTENT_VOLUME_CLAIMS, next, { namespace: ns, name: pvc.metadata.name });
      this.options.log.info({ claim: `${ns}/${pvc.metadata.name}`, volume: pv.metadata.name }, 'claim bound');
    }
  }

  // ------------------------------------------------------------ volumes

  async syncVolume(name: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const pv = await this.getOrUndefined(PERSISTENT_VOLUMES, { name });
        if (!pv) return;
        const ref = (pv as unknown as VolumeShape).spec?.claimRef;
        const pvc = ref?.name ? await this.getOrUndefined(PERSISTENT_VOLUME_CLAIMS, { namespace: ref.namespace, name: ref.name }) : undefined;
        const decision = decideVolume(pv, pvc);
        if (decision.action === 'none') return;
        let current = pv;
        if (decision.unbind) {
          const next = structuredClone(pv) as KubeObject & { spec: VolumeShape['spec'] & object };
          if (decision.unbind === 'all') {
            delete next.spec.claimRef;
            const ann = { ...((next.metadata.annotations as Record<string, string>) ?? {}) };
            delete ann[ANN_BOUND_BY_CONTROLLER];
            if (Object.keys(ann).length) next.metadata.annotations = ann;
            else delete next.metadata.annotations;
          } else if (next.spec.claimRef) {
            next.spec.claimRef = { ...next.spec.claimRef, uid: undefined, resourceVersion: undefined };
            delete next.spec.claimRef.uid;
            delete next.spec.claimRef.resourceVersion;
          }
          current = await this.registry.update(PERSISTENT_VOLUMES, next, { name });
        }
        const status = (current as unknown as VolumeShape).status ?? {};
        if (status.phase !== decision.phase || (decision.message ?? undefined) !== status.message) {
          const next = structuredClone(current) as KubeObject & { status?: Record<string, unknown> };
          next.status = { ...status, phase: decision.phase };
          if (decision.message) next.status.message = decision.message;
          else delete next.status.message;
          current = await this.registry.updateStatus(PERSISTENT_VOLUMES, next, { name });
          this.options.log.info({ volume: name, phase: decision.phase }, 'volume phase changed');
        }
        if (decision.event) await this.record(current, decision.event);
        return;
      } catch (err) {
        if (isConflict(err) && attempt < MAX_CONFLICT_RETRIES) continue;
        throw err;
      }
    }
  }
}
