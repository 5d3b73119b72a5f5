// authorization.k8s.io/v1 ResourceAttributes and NonResourceAttributes: what a (Self)SubjectAccessReview asks about,
// both when this server asks the main cluster and when it answers a review itself.

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface NonResourceAttributes {
  path?: string;
  verb?: string;
}
