// The one error type of the API. Thrown anywhere, rendered once as a Kubernetes `Status`
// (k8s.io/apimachinery/pkg/api/errors/errors.go holds the wording copied here).

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'Unknown';

/** The causes a field error can be (field.ErrorType). */
export type FieldErrorType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany';

export type CauseType = FieldErrorType | 'FieldManagerConflict' | 'ResourceVersionTooLarge' | 'UnexpectedServerResponse';

export interface StatusCause {
  reason?: CauseType | string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** The group and plural of a resource, as errors name it: `volumes.example.com` (plain `pods` for the core group). */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason | undefined,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'StatusError';
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
    if (status.reason === undefined) delete status.reason;
    if (status.details === undefined) delete status.details;
    return status;
  }

  static badRequest(message: string, causes?: StatusCause[]): StatusError {
    return new StatusError(400, 'BadRequest', message, causes ? { causes } : undefined);
  }

  static unauthorized(message = 'Unauthorized'): StatusError {
    return new StatusError(401, 'Unauthorized', message);
  }

  /** `message` is the already-formed reason ("User \"alice\" cannot delete resource …"). */
  static forbidden(gr: GroupResource, name: string | undefined, reasonText: string): StatusError {
    const subject = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
    return new StatusError(403, 'Forbidden', `${subject} is forbidden: ${reasonText}`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  }

  static forbiddenNonResource(reasonText: string): StatusError {
    return new StatusError(403, 'Forbidden', `forbidden: ${reasonText}`);
  }

  static notFound(gr: GroupResource, name: string): StatusError {
    return new StatusError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  }

  static pathNotFound(): StatusError {
    return new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }

  static alreadyExists(gr: GroupResource, name: string, beingDeleted = false): StatusError {
    const prefix = beingDeleted ? 'object is being deleted: ' : '';
    return new StatusError(409, 'AlreadyExists', `${prefix}${qualifiedResource(gr)} "${name}" already exists`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  }

  static conflict(gr: GroupResource, name: string, detail: string): StatusError {
    return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${detail}`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  }

  static staleUpdate(gr: GroupResource, name: string): StatusError {
    return StatusError.conflict(
      gr,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  }

  /** `kind` is the Kind (e.g. Widget), as upstream's NewInvalid names it: `Kind.group "name" is invalid: …`. */
  static invalid(groupKind: { group: string; kind: string }, name: string, errors: FieldError[]): StatusError {
    const qualifiedKind = groupKind.group ? `${groupKind.kind}.${groupKind.group}` : groupKind.kind;
    const causes = errors.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }));
    const summary = aggregateFieldErrors(errors);
    return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
      name,
      group: groupKind.group,
      kind: groupKind.kind,
      causes,
    });
  }

  static methodNotSupported(gr: GroupResource, verb: string): StatusError {
    return new StatusError(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${qualifiedResource(gr)}"`, {
      group: gr.group,
      kind: gr.resource,
    });
  }

  static notAcceptable(accepted: string[]): StatusError {
    return new StatusError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
  }

  static unsupportedMediaType(accepted: string[]): StatusError {
    return new StatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    );
  }

  static requestEntityTooLarge(limit: number): StatusError {
    return new StatusError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
  }

  static gone(message: string): StatusError {
    return new StatusError(410, 'Expired', message);
  }

  static tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
    return new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds });
  }

  static internal(message: string): StatusError {
    return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, {
      causes: [{ message }],
    });
  }

  static serviceUnavailable(message: string, retryAfterSeconds = 1): StatusError {
    return new StatusError(503, 'ServiceUnavailable', message, { retryAfterSeconds });
  }

  static timeout(message: string, retryAfterSeconds = 1): StatusError {
    return new StatusError(504, 'Timeout', message, { retryAfterSeconds });
  }
}

// ---- field errors (k8s.io/apimachinery/pkg/util/validation/field/errors.go) ----

export interface FieldError {
  type: FieldErrorType;
  /** Dotted path as upstream prints it: `spec.persistentVolumeClaimName`, `metadata.labels[app]`. */
  field: string;
  /** The offending value, when the message should show it. */
  value?: unknown;
  hasValue?: boolean;
  detail?: string;
}

const typeText: Record<FieldError['type'], string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
};

export const fieldErrors = {
  required: (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, detail }),
  invalid: (field: string, value: unknown, detail?: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    value,
    hasValue: true,
    detail,
  }),
  notSupported: (field: string, value: unknown, supported: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    value,
    hasValue: true,
    detail: supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : undefined,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value, hasValue: true }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  tooLong: (field: string, maxLength: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    detail: `may not be more than ${maxLength} bytes`,
  }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany',
    field,
    value: actual,
    hasValue: true,
    detail: `must have at most ${max} items`,
  }),
  immutable: (field: string, value: unknown): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    value,
    hasValue: true,
    detail: 'field is immutable',
  }),
};

/** Renders a value the way Go's field.Error does: strings quoted, numbers and booleans bare, others as JSON. */
function renderValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The part after `field: ` — e.g. `Invalid value: "X": detail`. */
export function fieldErrorBody(e: FieldError): string {
  let s = typeText[e.type];
  if (e.hasValue && e.type !== 'FieldValueTooLong' && e.type !== 'FieldValueTooMany' && e.type !== 'FieldValueRequired' && e.type !== 'FieldValueForbidden') {
    s += `: ${renderValue(e.value)}`;
  }
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

/** upstream's ToAggregate().Error(): one error bare, several as `[a, b]`. */
export function aggregateFieldErrors(errors: FieldError[]): string {
  const msgs = [...new Set(errors.map(formatFieldError))];
  return msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
}
