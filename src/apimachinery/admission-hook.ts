// In-process admission, as kube-apiserver's admission chain runs it around the registry
// (k8s.io/apiserver/pkg/endpoints/handlers/create.go: mutating admission, then the strategy, then validating
// admission, then storage). The registry calls these for every create, update and delete of every resource.
import type { KubeObject, ResourceDefinition } from './resource-definition.js';
import type { UserInfo } from './user-info.js';

/** What the registry tells an admission plugin about one write (admission.Attributes). */
export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  def: ResourceDefinition;
  subresource?: string;
  namespace?: string;
  name: string;
  /** The incoming object (CREATE, UPDATE): before the strategy for `mutate`, as it will be stored for `validate`. */
  object?: KubeObject;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: KubeObject;
  user?: UserInfo;
  dryRun: boolean;
  fieldManager?: string;
  /** Warnings for the client (`Warning` headers). */
  warnings?: string[];
}

/** Both phases optional; a thrown StatusError is the answer to the client. `mutate` may return a replacement object. */
export interface AdmissionPlugin {
  mutate?(attrs: AdmissionAttributes): Promise<KubeObject | void>;
  validate?(attrs: AdmissionAttributes): Promise<void>;
}
