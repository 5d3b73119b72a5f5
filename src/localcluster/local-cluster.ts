// The factory the server wires for `--local-cluster`: the definitions to serve, and start/stop of what runs
// behind them (seeding the defaults, the binder). PVC admission is separate (pvc-admission.ts), hooked into the
// Registry by the caller.

import type { Registry } from '../apimachinery/registry.js';
import type { ResourceDefinition } from '../apimachinery/resource-definition.js';
import { localClusterDefinitions } from './definitions.js';
import { seedLocalCluster } from './seed.js';
import { Binder } from './binder.js';
import type { LocalClusterLogger } from './event-recorder.js';
import { createLocalAdmission, type AdmissionPlugin } from './local-admission.js';
import { localAdmissionDeps } from './local-admission-deps.js';
import { accessReviewDefinitions, type AuthorizeFn, type RulesFn } from './access-reviews.js';

export interface LocalClusterOptions {
  log: LocalClusterLogger;
  clock?: () => Date;
  /** The binder's resync period (default 15 s, as the PV controller). */
  resyncMs?: number;
  /** `--restore-storage-class` for the PVC webhooks (default `snapshot-promoter`). */
  restoreStorageClass?: string;
  /**
   * The server's authorizer: with it the local cluster answers SelfSubjectAccessReview, SubjectAccessReview and
   * SelfSubjectReview (`kubectl auth can-i`, `kubectl auth whoami`) as kube-apiserver would.
   */
  authorize?: AuthorizeFn;
  /** The authorizer's rules for a user in a namespace: SelfSubjectRulesReview (`kubectl auth can-i --list`). */
  rulesFor?: RulesFn;
}

export interface LocalCluster {
  definitions: ResourceDefinition[];
  /** Seeds the defaults (idempotent) and starts the binder; the Registry must serve `definitions` by then. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when the binder has nothing queued (tests). */
  idle(): Promise<void>;
  /**
   * The admission chain for the Registry's hook (NamespaceLifecycle, the PVC webhooks): call `mutate` before the
   * strategy and `validate` after it, on every create/update/delete of every resource.
   */
  admission: AdmissionPlugin;
}

/**
 * `registry` is a getter or the Registry itself: the definitions are needed to build the Registry, so the server can
 * create the local cluster first and hand the Registry over once it exists.
 */
export function createLocalCluster(registry: Registry | (() => Registry), options: LocalClusterOptions): LocalCluster {
  const definitions = [
    ...localClusterDefinitions({ clock: options.clock }),
    ...(options.authorize ? accessReviewDefinitions({ authorize: options.authorize, rulesFor: options.rulesFor, clock: options.clock }) : []),
  ];
  const resolve = (): Registry => (typeof registry === 'function' ? registry() : registry);
  let binder: Binder | undefined;
  let chain: AdmissionPlugin | undefined;
  const admissionChain = (): AdmissionPlugin => {
    if (!chain) {
      const reg = resolve();
      const log = (entry: Record<string, unknown>) => options.log.info(entry, 'admission review');
      chain = createLocalAdmission(reg, localAdmissionDeps(reg, { restoreStorageClass: options.restoreStorageClass, log }));
    }
    return chain;
  };
  return {
    definitions,
    admission: {
      mutate: (attrs) => admissionChain().mutate!(attrs),
      validate: (attrs) => admissionChain().validate!(attrs),
    },
    async start() {
      const reg = resolve();
      const created = await seedLocalCluster(reg);
      if (created.length) options.log.info({ created }, 'local cluster seeded');
      binder = new Binder(reg, { log: options.log, clock: options.clock, resyncMs: options.resyncMs });
      await binder.start();
      options.log.info({ resources: definitions.map((d) => (d.group ? `${d.plural}.${d.group}` : d.plural)) }, 'local cluster serving');
    },
    async stop() {
      await binder?.stop();
      binder = undefined;
    },
    async idle() {
      await binder?.idle();
    },
  };
}
