// The generic REST store (k8s.io/apiserver/pkg/registry/generic/registry/store.go) for every ResourceDefinition:
// all object-meta rules live here, so the HTTP handlers and in-process callers (the embedded worker, the local
// cluster) get the same uid/resourceVersion/generation/status/finalizer/managedFields behaviour and validation.

import type { AdmissionPlugin } from './admission-hook.js';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { StorageError, type Store, type StoredObject, type WatchEvent } from '../storage/store.js';
import { objectMetaDecodeError } from './object-meta-decoding.js';
import { StatusError, fieldErrors, type FieldError, type GroupResource } from './status-error.js';
import type { UserInfo } from './user-info.js';
import {
  apiVersionOf,
  selectableFieldNames,
  selectableFieldValues,
  statusFieldsOf,
  storageResourceOf,
  type KubeObject,
  type ResourceDefinition,
} from './resource-definition.js';
import { createSchemaValidatorFactory, type ObjectValidator } from './schema-validation.js';
import { updateManagedFields, managerFromUserAgent, type ManagedFieldsEntry, type SchemaNode } from './managed-fields.js';
import { toStatusFromStorage } from './storage-errors.js';
import { applyConfiguration, conflictMessage, pathString, printManager } from './server-side-apply.js';
import { parseLabelSelector, type LabelSelector } from './label-selector.js';
import { parseFieldSelector, assertSupportedFields, type FieldSelector } from './field-selector.js';
import { validateObjectMeta, validateObjectMetaUpdate, generateName } from './object-meta-validation.js';
import { objectMetaFields, pruneUnknownFields } from './prune.js';
import { applyMergePatch } from './merge-patch.js';
import { applyJsonPatch } from './json-patch.js';
import { applyStrategicMergePatch, goString } from './strategic-merge-patch.js';
import type { JsonSchema } from './json-schema.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun?: boolean;
  /** Names the managedFields entry; defaults to the User-Agent's product (upstream) or no entry in-process. */
  fieldManager?: string;
  userAgent?: string;
  /** Unknown fields: Strict → error, Warn → `warnings`, Ignore (in-process default) → dropped silently. */
  fieldValidation?: FieldValidation;
  /** Receives one message per problem for `Warn` (`unknown field "spec.bogus"`). */
  warnings?: string[];
  user?: UserInfo;
}

export interface ObjectTarget {
  namespace?: string;
  name: string;
}

export interface ListRequest {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  user?: UserInfo;
}

export interface ObjectList {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

export interface UpdateRequest extends WriteOptions, ObjectTarget {
  /** `status` writes only the status fields. */
  subresource?: string;
}

export type PatchType = 'json' | 'merge' | 'strategic';

export interface PatchRequest extends UpdateRequest {
  patchType: PatchType;
  /** The decoded patch document (JSON Patch operations array, or a merge patch object). */
  patch: unknown;
  /** What a strict decoder found in the patch document itself (duplicate fields), reported as fieldValidation says. */
  patchStrictErrors?: string[];
}

export interface ApplyRequest extends UpdateRequest {
  /** The applied configuration (a partial object, decoded from YAML or JSON). */
  config: unknown;
  /** Take ownership of fields other managers own instead of failing with 409. */
  force?: boolean;
}

export interface DeleteRequest extends ObjectTarget {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  gracePeriodSeconds?: number;
  dryRun?: boolean;
  user?: UserInfo;
}

export interface DeleteCollectionRequest {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  dryRun?: boolean;
  user?: UserInfo;
}

export interface WatchRequest {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  sendInitialEvents?: boolean;
  allowWatchBookmarks?: boolean;
  /** Bookmark period when bookmarks are allowed; upstream sends about one a minute. */
  bookmarkIntervalMs?: number;
  user?: UserInfo;
}

export interface RegistryWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: KubeObject;
}

/** A running watch; iteration throws a StatusError (410 Expired…) when the watch cannot continue. */
export interface RegistryWatch extends AsyncIterable<RegistryWatchEvent> {
  stop(): void;
}

/** A definition, or its `plural.group` (`plural` for the core group) name. */
export type ResourceRef = ResourceDefinition | string;

export interface RegistryOptions {
  store: Store;
  definitions: ResourceDefinition[];
  /** Admission run around every create, update and delete (the local cluster's NamespaceLifecycle and PVC webhooks). */
  admission?: AdmissionPlugin;
  clock?: () => Date;
  uid?: () => string;
}

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/** RFC 3339 with seconds, as metav1.Time marshals. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}


export class Registry {
  readonly store: Store;
  private readonly defs: ResourceDefinition[];
  private readonly byName = new Map<string, ResourceDefinition>();
  private readonly validators = new Map<ResourceDefinition, ObjectValidator>();
  private readonly clock: () => Date;
  private readonly newUid: () => string;
  private readonly admission: AdmissionPlugin;

  constructor(options: RegistryOptions) {
    this.store = options.store;
    this.admission = options.admission ?? {};
    this.defs = [...options.definitions];
    this.clock = options.clock ?? (() => new Date());
    this.newUid = options.uid ?? randomUUID;
    const factory = createSchemaValidatorFactory();
    for (const def of this.defs) {
      const name = def.group ? `${def.plural}.${def.group}` : def.plural;
      if (this.byName.has(name)) throw new Error(`resource ${name} defined twice`);
      this.byName.set(name, def);
      this.validators.set(def, factory.compile(def.schema as object));
    }
  }

  get definitions(): readonly ResourceDefinition[] {
    return this.defs;
  }

  /** The definition serving `plural` in `group` (and `version`, when given). */
  lookup(group: string, plural: string, version?: string): ResourceDefinition | undefined {
    const def = this.byName.get(group ? `${plural}.${group}` : plural);
    if (def && version !== undefined && def.version !== version) return undefined;
    return def;
  }

  resolve(ref: ResourceRef): ResourceDefinition {
    if (typeof ref !== 'string') return ref;
    const def = this.byName.get(ref);
    if (!def) throw new Error(`unknown resource ${ref}`);
    return def;
  }

  // ---------------------------------------------------------------- reads

  async get(ref: ResourceRef, target: ObjectTarget & { user?: UserInfo }): Promise<KubeObject> {
    const def = this.resolve(ref);
    const gr = groupResource(def);
    const obj = await this.wrap(gr, target.name, () =>
      this.store.get({ resource: storageResourceOf(def), namespace: this.ns(def, target.namespace), name: target.name }),
    );
    if (!obj) throw StatusError.notFound(gr, target.name);
    return obj as KubeObject;
  }

  async list(ref: ResourceRef, req: ListRequest = {}): Promise<ObjectList> {
    const def = this.resolve(ref);
    const predicate = this.predicate(def, req.labelSelector, req.fieldSelector);
    const result = await this.wrap(groupResource(def), '', () =>
      this.store.list(storageResourceOf(def), {
        namespace: this.ns(def, req.namespace),
        limit: req.limit,
        continue: req.continue,
        resourceVersion: req.resourceVersion,
        resourceVersionMatch: req.resourceVersionMatch,
        predicate: predicate.empty ? undefined : (o) => predicate.matches(o as KubeObject),
      }),
    );
    const metadata: ObjectList['metadata'] = { resourceVersion: result.resourceVersion };
    if (result.continue) metadata.continue = result.continue;
    if (result.remainingItemCount !== undefined && result.continue) metadata.remainingItemCount = result.remainingItemCount;
    return { apiVersion: apiVersionOf(def), kind: def.listKind, metadata, items: result.items as KubeObject[] };
  }

  // ---------------------------------------------------------------- create

  /**
   * A POST to a virtual kind (`computeCreate`): the body is decoded and checked as a create's is (apiVersion, kind,
   * unknown fields, schema, strategy.validate), then answered; nothing is stored, so no uid/resourceVersion/admission.
   */
  async computeCreate(def: ResourceDefinition, body: unknown, options: WriteOptions = {}): Promise<KubeObject> {
    if (!def.computeCreate) throw StatusError.methodNotSupported(groupResource(def), 'create');
    const obj = this.decodeIncoming(def, body, options);
    const errs: FieldError[] = [];
    if (obj.kind !== def.kind) errs.push(fieldErrors.invalid('kind', obj.kind, `must be ${def.kind}`));
    errs.push(...(this.validators.get(def)?.(obj) ?? []));
    errs.push(...(def.strategy.validate?.(obj) ?? []));
    this.assertValid(def, obj, errs);
    return def.computeCreate(obj, { user: options.user });
  }

  async create(ref: ResourceRef, body: unknown, options: WriteOptions & { namespace?: string } = {}): Promise<KubeObject> {
    return this.createWith(ref, body, options, undefined);
  }

  private async createWith(
    ref: ResourceRef,
    body: unknown,
    options: WriteOptions & { namespace?: string },
    managedFields: ManagedFieldsEntry[] | undefined,
  ): Promise<KubeObject> {
    const def = this.resolve(ref);
    const gr = groupResource(def);
    let obj = this.decodeIncoming(def, body, options);
    let meta = obj.metadata;
    if (def.namespaced) {
      if (options.namespace !== undefined && options.namespace !== '') {
        if (meta.namespace && meta.namespace !== options.namespace) {
          throw StatusError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
        }
        meta.namespace = options.namespace;
      }
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion) {
      throw StatusError.badRequest('resourceVersion should not be set on objects to be created');
    }
    const admissionAttrs = {
      operation: 'CREATE' as const,
      def,
      namespace: meta.namespace,
      name: meta.name ?? '',
      user: options.user,
      dryRun: !!options.dryRun,
      fieldManager: options.fieldManager,
      warnings: options.warnings,
    };
    if (this.admission.mutate) {
      const mutated = await this.admission.mutate({ ...admissionAttrs, object: obj });
      if (mutated) {
        obj = mutated;
        meta = obj.metadata;
      }
    }
    const now = rfc3339(this.clock());
    // rest.BeforeCreate + FillObjectMetaSystemFields
    meta.uid = this.newUid();
    meta.creationTimestamp = now;
    meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    for (const f of statusFieldsOf(def)) if (def.subresources.status) delete obj[f];
    def.strategy.prepareForCreate?.(obj);

    const generated = !meta.name && typeof meta.generateName === 'string' && meta.generateName !== '';
    if (generated) meta.name = generateName(meta.generateName as string);

    this.assertValid(def, obj, this.validateCreate(def, obj));
    await this.admission.validate?.({ ...admissionAttrs, name: meta.name, object: obj });
    const manager = options.fieldManager ?? managerFromUserAgent(options.userAgent);
    if (managedFields) {
      meta.managedFields = managedFields;
    } else if (manager) {
      meta.managedFields = updateManagedFields([], {
        oldObject: undefined,
        newObject: obj,
        manager,
        apiVersion: apiVersionOf(def),
        time: now,
        schema: def.schema as SchemaNode,
        statusFields: def.subresources.status ? statusFieldsOf(def) : [],
      });
      if ((meta.managedFields as unknown[]).length === 0) delete meta.managedFields;
    } else {
      delete meta.managedFields;
    }
    if (options.dryRun) return obj;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.store.create(storageResourceOf(def), obj as StoredObject)) as KubeObject;
      } catch (err) {
        const mapped = toStatusFromStorage(err, gr, meta.name);
        // generateName collisions are retried with a fresh suffix (upstream returns 409 after its own retries).
        if (generated && attempt < 8 && mapped instanceof StatusError && mapped.reason === 'AlreadyExists') {
          meta.name = generateName(meta.generateName as string);
          continue;
        }
        throw mapped;
      }
    }
  }

  // ---------------------------------------------------------------- update / patch

  async update(ref: ResourceRef, body: unknown, req: UpdateRequest): Promise<KubeObject> {
    const def = this.resolve(ref);
    const gr = groupResource(def);
    this.assertSubresource(def, req.subresource);
    const incoming = this.decodeIncoming(def, body, req);
    if (incoming.metadata.name !== req.name) {
      throw StatusError.badRequest(
        `the name of the object (${incoming.metadata.name ?? ''}) does not match the name on the URL (${req.name})`,
      );
    }
    const reqNs = this.ns(def, req.namespace);
    if (def.namespaced && incoming.metadata.namespace && reqNs && incoming.metadata.namespace !== reqNs) {
      throw StatusError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!incoming.metadata.resourceVersion) {
      throw StatusError.invalid({ group: def.group, kind: def.kind }, req.name, [
        fieldErrors.invalid('metadata.resourceVersion', 0, 'must be specified for an update'),
      ]);
    }
    return this.writeUpdate(def, gr, req, () => incoming);
  }

  /** The /status write: only the status fields of `body` are taken. */
  async updateStatus(ref: ResourceRef, body: unknown, req: Omit<UpdateRequest, 'subresource'>): Promise<KubeObject> {
    return this.update(ref, body, { ...req, subresource: 'status' });
  }

  async patch(ref: ResourceRef, req: PatchRequest): Promise<KubeObject> {
    const def = this.resolve(ref);
    const gr = groupResource(def);
    this.assertSubresource(def, req.subresource);
    return this.writeUpdate(def, gr, req, (current) => {
      let patched: unknown;
      try {
        if (req.patchType === 'strategic') patched = applyStrategicMergePatch(clone(current), req.patch, def.schema);
        else patched = req.patchType === 'json' ? applyJsonPatch(clone(current), req.patch) : applyMergePatch(clone(current), req.patch);
      } catch (err) {
        if (err instanceof StatusError) throw err;
        throw StatusError.invalid({ group: '', kind: '' }, '', [
          fieldErrors.invalid('patch', JSON.stringify(req.patch), (err as Error).message),
        ]);
      }
      if (!isObject(patched)) {
        throw StatusError.badRequest('the patch produced an object that is not a JSON object');
      }
      // patch.go: the patched object must decode; then the patch's own strict errors come before the object's.
      // (applyPatchToObject shows a strategic patch's errors against the patch map, printed by Go's %+v.)
      const shown = req.patchType === 'strategic' ? goString(req.patch ?? {}) : JSON.stringify(patched);
      const decodeError = isObject(patched.metadata) ? objectMetaDecodeError(patched.metadata) : undefined;
      if (decodeError) {
        throw StatusError.invalid({ group: '', kind: '' }, '', [fieldErrors.invalid('patch', shown, decodeError)]);
      }
      const problems = [...(req.patchStrictErrors ?? []), ...this.unknownFields(def, patched)];
      if (problems.length && req.fieldValidation === 'Strict') {
        throw StatusError.invalid({ group: '', kind: '' }, '', [
          fieldErrors.invalid('patch', shown, `strict decoding error: ${problems.join(', ')}`),
        ]);
      }
      if (req.fieldValidation === 'Warn') req.warnings?.push(...problems);
      const obj = this.normalize(def, patched);
      if (obj.metadata.name !== req.name) {
        throw StatusError.badRequest(`the name of the object (${obj.metadata.name ?? ''}) does not match the name on the URL (${req.name})`);
      }
      // patch.go checkName: a patch may not move the object to another namespace.
      if (def.namespaced && (obj.metadata.namespace ?? '') !== (current.metadata.namespace ?? '')) {
        throw StatusError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      // A patch that carries no resourceVersion applies to the current object unconditionally.
      if (!obj.metadata.resourceVersion) obj.metadata.resourceVersion = current.metadata.resourceVersion;
      return obj;
    });
  }

  private async writeUpdate(
    def: ResourceDefinition,
    gr: GroupResource,
    req: UpdateRequest,
    produce: (current: KubeObject) => KubeObject,
    managedFieldsOf?: (current: KubeObject) => ManagedFieldsEntry[],
  ): Promise<KubeObject> {
    const resource = storageResourceOf(def);
    const target = { resource, namespace: this.ns(def, req.namespace), name: req.name };
    let result: KubeObject | undefined;
    let deleteAfter = false;
    let dryRunResult: KubeObject | undefined;
    const admissionAttrs = {
      operation: 'UPDATE' as const,
      def,
      subresource: req.subresource,
      namespace: target.namespace || undefined,
      name: req.name,
      user: req.user,
      dryRun: !!req.dryRun,
      fieldManager: req.fieldManager,
      warnings: req.warnings,
    };
    const mutate = async (stored: StoredObject | undefined): Promise<StoredObject | undefined> => {
      if (!stored) throw StatusError.notFound(gr, req.name);
      const current = stored as KubeObject;
      let incoming = produce(current);
      if (this.admission.mutate) {
        const mutated = await this.admission.mutate({ ...admissionAttrs, object: incoming, oldObject: current });
        if (mutated) incoming = mutated;
      }
      if (incoming.metadata.resourceVersion !== current.metadata.resourceVersion) throw StatusError.staleUpdate(gr, req.name);
      if (incoming.metadata.uid && incoming.metadata.uid !== current.metadata.uid) {
        throw StatusError.conflict(
          gr,
          req.name,
          `Precondition failed: UID in precondition: ${String(incoming.metadata.uid)}, UID in object meta: ${String(current.metadata.uid)}`,
        );
      }
      const next = this.prepareUpdate(def, incoming, current, req, managedFieldsOf?.(current));
      this.assertValid(def, next, [...this.validateCreate(def, next), ...this.validateUpdate(def, next, current, req.subresource)]);
      await this.admission.validate?.({ ...admissionAttrs, object: next, oldObject: current });
      deleteAfter = !!next.metadata.deletionTimestamp && !((next.metadata.finalizers as string[] | undefined)?.length);
      if (isDeepStrictEqual(next, current)) {
        result = current;
        return undefined;
      }
      if (req.dryRun) {
        dryRunResult = next;
        return undefined;
      }
      return next as StoredObject;
    };
    const stored = (await this.wrap(gr, req.name, () => this.store.guaranteedUpdate(target, mutate))) as KubeObject;
    if (dryRunResult) return dryRunResult;
    result = result && result.metadata.resourceVersion === stored.metadata.resourceVersion ? result : stored;
    if (deleteAfter) {
      // store.go: an update that leaves a deleting object without finalizers deletes it.
      try {
        return (await this.store.delete(target, { resourceVersion: stored.metadata.resourceVersion as string })) as KubeObject;
      } catch {
        return stored;
      }
    }
    return result;
  }

  private prepareUpdate(
    def: ResourceDefinition,
    incoming: KubeObject,
    current: KubeObject,
    req: UpdateRequest,
    managedFields?: ManagedFieldsEntry[],
  ): KubeObject {
    const statusFields = def.subresources.status ? statusFieldsOf(def) : [];
    let next: KubeObject;
    if (req.subresource === 'status') {
      // The CRD status strategy: the old object with the new status (and nothing else).
      next = clone(current);
      for (const f of statusFields) {
        if (f in incoming) next[f] = clone(incoming[f]);
        else delete next[f];
      }
    } else {
      next = clone(incoming);
      for (const f of statusFields) {
        if (f in current) next[f] = clone(current[f]);
        else delete next[f];
      }
      const m = next.metadata;
      const c = current.metadata;
      // System fields are the server's.
      m.namespace = c.namespace;
      m.uid = c.uid;
      m.creationTimestamp = c.creationTimestamp;
      m.generation = c.generation;
      // rest.BeforeUpdate: a deletion mark can never be removed or changed, but setting one where there was none is
      // left for ValidateObjectMetaUpdate to refuse (field is immutable).
      if (c.deletionTimestamp) m.deletionTimestamp = c.deletionTimestamp;
      if (c.deletionGracePeriodSeconds !== undefined && c.deletionGracePeriodSeconds !== null && m.deletionGracePeriodSeconds == null) {
        m.deletionGracePeriodSeconds = c.deletionGracePeriodSeconds;
      }
      if (c.generateName !== undefined && m.generateName === undefined) m.generateName = c.generateName;
      if (m.managedFields === undefined && c.managedFields !== undefined) m.managedFields = clone(c.managedFields);
      if (!def.namespaced) delete m.namespace;
    }
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    def.strategy.prepareForUpdate?.(next, current, { subresource: req.subresource });
    if (req.subresource !== 'status' && specChanged(next, current, statusFields)) {
      next.metadata.generation = (Number(current.metadata.generation) || 0) + 1;
    }
    const manager = req.fieldManager ?? managerFromUserAgent(req.userAgent);
    if (managedFields) {
      if (managedFields.length) next.metadata.managedFields = managedFields;
      else delete next.metadata.managedFields;
    } else if (manager) {
      const entries = updateManagedFields((next.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? [], {
        oldObject: current,
        newObject: next,
        manager,
        apiVersion: apiVersionOf(def),
        time: rfc3339(this.clock()),
        subresource: req.subresource,
        schema: def.schema as SchemaNode,
        statusFields,
      });
      if (entries.length) next.metadata.managedFields = entries;
      else delete next.metadata.managedFields;
    }
    return next;
  }

  // ---------------------------------------------------------------- server-side apply

  /** `application/apply-patch+yaml`: merge the configuration, track ownership, 409 on conflicts unless forced. */
  async apply(ref: ResourceRef, req: ApplyRequest): Promise<{ object: KubeObject; created: boolean }> {
    const def = this.resolve(ref);
    const gr = groupResource(def);
    this.assertSubresource(def, req.subresource);
    if (!req.fieldManager) {
      throw StatusError.invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [
        fieldErrors.required('fieldManager', 'is required for apply patch'),
      ]);
    }
    const config = this.decodeIncoming(def, req.config, req);
    if (config.metadata.name && config.metadata.name !== req.name) {
      throw StatusError.badRequest(`the name of the object (${config.metadata.name}) does not match the name on the URL (${req.name})`);
    }
    config.metadata.name = req.name;
    const reqNs = this.ns(def, req.namespace);
    if (def.namespaced && config.metadata.namespace && reqNs && config.metadata.namespace !== reqNs) {
      throw StatusError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const statusFields = def.subresources.status ? statusFieldsOf(def) : [];
    const run = (live: KubeObject | undefined) => {
      const result = applyConfiguration({
        live,
        config,
        manager: req.fieldManager!,
        apiVersion: apiVersionOf(def),
        time: rfc3339(this.clock()),
        force: !!req.force,
        subresource: req.subresource,
        schema: def.schema as SchemaNode,
        statusFields,
      });
      if (result.conflicts.length && !req.force) {
        throw new StatusError(409, 'Conflict', conflictMessage(result.conflicts), {
          causes: result.conflicts.map((c) => ({
            reason: 'FieldManagerConflict',
            message: `conflict with ${printManager(c.entry)}`,
            field: pathString(c.path),
          })),
        });
      }
      return result;
    };
    let managed: ManagedFieldsEntry[] = [];
    try {
      const object = await this.writeUpdate(
        def,
        gr,
        req,
        (current) => {
          const result = run(current);
          managed = result.managedFields;
          const obj = result.object as KubeObject;
          obj.metadata.resourceVersion = current.metadata.resourceVersion;
          return obj;
        },
        () => managed,
      );
      return { object, created: false };
    } catch (err) {
      if (!(err instanceof StatusError && err.reason === 'NotFound' && err.details?.name === req.name) || req.subresource) throw err;
    }
    const result = run(undefined);
    const object = await this.createWith(def, result.object, { ...req, fieldValidation: 'Ignore' }, result.managedFields);
    return { object, created: true };
  }

  // ---------------------------------------------------------------- delete

  async delete(ref: ResourceRef, req: DeleteRequest): Promise<KubeObject> {
    const def = this.resolve(ref);
    const gr = groupResource(def);
    const target = { resource: storageResourceOf(def), namespace: this.ns(def, req.namespace), name: req.name };
    const current = (await this.wrap(gr, req.name, () => this.store.get(target))) as KubeObject | undefined;
    if (!current) throw StatusError.notFound(gr, req.name);
    checkPreconditions(gr, req.name, current, req.preconditions);
    await this.admission.validate?.({
      operation: 'DELETE',
      def,
      namespace: target.namespace || undefined,
      name: req.name,
      oldObject: current,
      user: req.user,
      dryRun: !!req.dryRun,
    });
    const finalizers = (current.metadata.finalizers as string[] | undefined) ?? [];
    if (finalizers.length > 0) {
      if (current.metadata.deletionTimestamp) return current;
      // rest.BeforeDelete: no graceful deletion for these kinds, so deletion is "now" and the finalizers decide.
      const mark = (obj: KubeObject): KubeObject => {
        const next = clone(obj);
        next.metadata.deletionTimestamp = rfc3339(this.clock());
        next.metadata.deletionGracePeriodSeconds = 0;
        if (Number(next.metadata.generation) > 0) next.metadata.generation = Number(next.metadata.generation) + 1;
        return next;
      };
      if (req.dryRun) return mark(current);
      return (await this.wrap(gr, req.name, () =>
        this.store.guaranteedUpdate(target, (stored) => {
          if (!stored) throw StatusError.notFound(gr, req.name);
          checkPreconditions(gr, req.name, stored as KubeObject, req.preconditions);
          if ((stored as KubeObject).metadata.deletionTimestamp) return undefined;
          return mark(stored as KubeObject) as StoredObject;
        }),
      )) as KubeObject;
    }
    if (req.dryRun) return current;
    return (await this.wrap(gr, req.name, () =>
      this.store.delete(target, {
        uid: req.preconditions?.uid,
        resourceVersion: req.preconditions?.resourceVersion ?? (current.metadata.resourceVersion as string),
      }),
    ).catch(async (err: unknown) => {
      // Lost a race with a writer that did not change what matters: retry once against the fresh state.
      if (err instanceof StatusError && err.reason === 'Conflict' && !req.preconditions?.resourceVersion) {
        return this.delete(def, { ...req });
      }
      throw err;
    })) as KubeObject;
  }

  async deleteCollection(ref: ResourceRef, req: DeleteCollectionRequest): Promise<ObjectList> {
    const def = this.resolve(ref);
    const list = await this.list(def, { namespace: req.namespace, labelSelector: req.labelSelector, fieldSelector: req.fieldSelector });
    const items: KubeObject[] = [];
    for (const item of list.items) {
      try {
        items.push(await this.delete(def, { namespace: item.metadata.namespace, name: item.metadata.name, dryRun: req.dryRun }));
      } catch (err) {
        if (err instanceof StatusError && err.reason === 'NotFound') continue;
        throw err;
      }
    }
    return { ...list, items };
  }

  // ---------------------------------------------------------------- watch

  watch(ref: ResourceRef, req: WatchRequest = {}): RegistryWatch {
    const def = this.resolve(ref);
    const gr = groupResource(def);
    if (req.sendInitialEvents !== undefined) {
      const errs: FieldError[] = [];
      if (req.sendInitialEvents && req.resourceVersionMatch !== 'NotOlderThan') {
        errs.push(fieldErrors.forbidden('resourceVersionMatch', "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
      }
      if (req.sendInitialEvents && !req.allowWatchBookmarks) {
        errs.push(fieldErrors.forbidden('allowWatchBookmarks', 'sendInitialEvents requires setting allowWatchBookmarks to true'));
      }
      if (errs.length) throw StatusError.invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', errs);
    } else if (req.resourceVersionMatch) {
      throw StatusError.invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [
        fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'),
      ]);
    }
    if (req.resourceVersion && !/^\d+$/.test(req.resourceVersion)) {
      throw StatusError.invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [
        fieldErrors.invalid('resourceVersion', req.resourceVersion, 'must be a non-negative integer'),
      ]);
    }
    const predicate = this.predicate(def, req.labelSelector, req.fieldSelector);
    const apiVersion = apiVersionOf(def);
    const inner = (() => {
      try {
        return this.store.watch(storageResourceOf(def), {
          namespace: this.ns(def, req.namespace),
          resourceVersion: req.sendInitialEvents === false && !req.resourceVersion ? undefined : req.resourceVersion,
          sendInitialEvents: req.sendInitialEvents,
          bookmarkIntervalMs: req.allowWatchBookmarks ? (req.bookmarkIntervalMs ?? 60_000) : undefined,
        });
      } catch (err) {
        throw toStatusFromStorage(err, gr);
      }
    })();
    const allowBookmarks = !!req.allowWatchBookmarks;
    const matches = (o: StoredObject | undefined): boolean => !!o && (predicate.empty || predicate.matches(o as KubeObject));
    const transform = (e: WatchEvent): RegistryWatchEvent | undefined => {
      if (e.type === 'BOOKMARK') {
        if (!allowBookmarks) return undefined;
        const metadata: Record<string, unknown> = { resourceVersion: e.resourceVersion };
        if (e.initialEventsEnd) metadata.annotations = { [INITIAL_EVENTS_END]: 'true' };
        return { type: 'BOOKMARK', object: { apiVersion, kind: def.kind, metadata } as unknown as KubeObject };
      }
      if (predicate.empty) return { type: e.type, object: e.object as KubeObject };
      if (e.type === 'MODIFIED') {
        const now = matches(e.object);
        const before = e.prevObject ? matches(e.prevObject) : now;
        if (now && before) return { type: 'MODIFIED', object: e.object as KubeObject };
        if (now) return { type: 'ADDED', object: e.object as KubeObject };
        if (before) {
          const prev = clone(e.prevObject!) as KubeObject;
          prev.metadata.resourceVersion = e.resourceVersion;
          return { type: 'DELETED', object: prev };
        }
        return undefined;
      }
      return matches(e.object) ? { type: e.type, object: e.object as KubeObject } : undefined;
    };
    return {
      stop: () => inner.stop(),
      async *[Symbol.asyncIterator]() {
        try {
          for await (const e of inner) {
            const out = transform(e);
            if (out) yield out;
          }
        } catch (err) {
          throw toStatusFromStorage(err, gr);
        } finally {
          inner.stop();
        }
      },
    };
  }

  /**
   * Refuses a watch from a revision the store has not reached (504, as the cacher does after waiting), so the
   * HTTP layer can answer before it starts streaming.
   */
  async assertResourceVersionReached(ref: ResourceRef, resourceVersion: string | undefined): Promise<void> {
    if (!resourceVersion || !/^\d+$/.test(resourceVersion) || resourceVersion === '0') return;
    const def = this.resolve(ref);
    const current = await this.store.currentResourceVersion();
    if (BigInt(resourceVersion) > BigInt(current)) {
      throw toStatusFromStorage(
        new StorageError('TooLargeResourceVersion', `Too large resource version: ${resourceVersion}, current: ${current}`),
        groupResource(def),
      );
    }
  }

  // ---------------------------------------------------------------- helpers

  private ns(def: ResourceDefinition, namespace: string | undefined): string | undefined {
    return def.namespaced && namespace ? namespace : undefined;
  }

  private assertSubresource(def: ResourceDefinition, subresource: string | undefined): void {
    if (subresource && !(subresource === 'status' && def.subresources.status)) {
      throw StatusError.pathNotFound();
    }
  }

  private async wrap<T>(gr: GroupResource, name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toStatusFromStorage(err, gr, name);
    }
  }

  private predicate(def: ResourceDefinition, labelSelector?: string, fieldSelector?: string): { empty: boolean; matches(o: KubeObject): boolean } {
    const labels: LabelSelector | undefined = labelSelector ? parseLabelSelector(labelSelector) : undefined;
    const fields: FieldSelector | undefined = fieldSelector ? parseFieldSelector(fieldSelector) : undefined;
    if (fields) assertSupportedFields(fields, selectableFieldNames(def));
    const empty = (labels?.empty ?? true) && (fields?.empty ?? true);
    return {
      empty,
      matches: (o) =>
        (!labels || labels.matches((o.metadata.labels as Record<string, string> | undefined) ?? {})) &&
        (!fields || fields.matches(selectableFieldValues(def, o))),
    };
  }

  /** Unknown fields (schema pruning plus ObjectMeta's field list), as upstream's strict decoder names them. */
  private unknownFields(def: ResourceDefinition, obj: Record<string, unknown>): string[] {
    const paths = pruneUnknownFields(obj, def.schema as JsonSchema);
    if (isObject(obj.metadata)) {
      for (const k of Object.keys(obj.metadata)) {
        if (!objectMetaFields.has(k)) {
          paths.push(`metadata.${k}`);
          delete obj.metadata[k];
        }
      }
    }
    return [...new Set(paths)].map((p) => `unknown field "${p}"`);
  }

  /** A copy of the body as an object of the definition's kind: unknown fields handled, apiVersion/kind checked. */
  private decodeIncoming(def: ResourceDefinition, body: unknown, options: WriteOptions): KubeObject {
    if (!isObject(body)) throw StatusError.badRequest('the body of the request must be a JSON object');
    const obj = clone(body);
    const decodeError = isObject(obj.metadata) ? objectMetaDecodeError(obj.metadata) : undefined;
    if (decodeError) throw StatusError.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${decodeError}`);
    const problems = this.unknownFields(def, obj);
    if (problems.length && options.fieldValidation === 'Strict') {
      throw StatusError.badRequest(strictDecodingMessage(def, problems));
    }
    if (options.fieldValidation === 'Warn') options.warnings?.push(...problems);
    return this.normalize(def, obj);
  }

  private normalize(def: ResourceDefinition, obj: Record<string, unknown>): KubeObject {
    const apiVersion = apiVersionOf(def);
    if (obj.apiVersion === undefined || obj.apiVersion === '') obj.apiVersion = apiVersion;
    if (obj.kind === undefined || obj.kind === '') obj.kind = def.kind;
    if (obj.apiVersion !== apiVersion) {
      throw StatusError.badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`,
      );
    }
    if (!isObject(obj.metadata)) obj.metadata = {};
    return obj as KubeObject;
  }

  private validateCreate(def: ResourceDefinition, obj: KubeObject): FieldError[] {
    const errs: FieldError[] = [];
    // customResourceValidator: the kind must be the definition's.
    if (obj.kind !== def.kind) errs.push(fieldErrors.invalid('kind', obj.kind, `must be ${def.kind}`));
    errs.push(...validateObjectMeta(obj.metadata, { namespaced: def.namespaced }));
    errs.push(...(this.validators.get(def)?.(obj) ?? []));
    errs.push(...(def.strategy.validate?.(obj) ?? []));
    return errs;
  }

  private validateUpdate(def: ResourceDefinition, obj: KubeObject, old: KubeObject, subresource?: string): FieldError[] {
    // ValidateObjectMetaAccessorUpdate covers immutability and "no new finalizers while deleting".
    const errs = [...validateObjectMetaUpdate(obj.metadata, old.metadata)];
    errs.push(...(def.strategy.validateUpdate?.(obj, old, { subresource }) ?? []));
    return errs;
  }

  private assertValid(def: ResourceDefinition, obj: KubeObject, errs: FieldError[]): void {
    const seen = new Set<string>();
    const unique = errs.filter((e) => {
      const key = `${e.type}|${e.field}|${String(e.detail)}|${JSON.stringify(e.value)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (unique.length) throw StatusError.invalid({ group: def.group, kind: def.kind }, obj.metadata.name ?? '', unique);
  }
}

export function groupResource(def: ResourceDefinition): GroupResource {
  return { group: def.group, resource: def.plural };
}

/** `<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding error: unknown field "spec.bogus"`. */
export function strictDecodingMessage(def: ResourceDefinition, problems: string[]): string {
  return `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${problems.join(', ')}`;
}

function specChanged(a: KubeObject, b: KubeObject, statusFields: string[]): boolean {
  const strip = (o: KubeObject) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (k !== 'metadata' && !statusFields.includes(k)) out[k] = v;
    return out;
  };
  return !isDeepStrictEqual(strip(a), strip(b));
}

function checkPreconditions(
  gr: GroupResource,
  name: string,
  obj: KubeObject,
  pre: DeleteRequest['preconditions'] | undefined,
): void {
  if (!pre) return;
  if (pre.uid && pre.uid !== obj.metadata.uid) {
    throw StatusError.conflict(gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(obj.metadata.uid ?? '')}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw StatusError.conflict(
      gr,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(obj.metadata.resourceVersion ?? '')}`,
    );
  }
}
