// JSON patch, RFC 6902, applied as kube-apiserver applies it (k8s.io/apiserver/pkg/endpoints/handlers/patch.go):
// a body that is not a list of operation objects is a 400 (DecodePatch fails), more than 10000 operations a 413, and
// any operation that cannot be applied — a failing `test`, a missing path, a malformed operation — a 422 with
// upstream's generic message (NewGenericServerResponse). Upstream drops the reason on the floor; we keep it as the
// Status cause so a user can see which operation failed.
//
// fast-json-patch does the work on a copy. Its own document validation is not used: for move/copy it clones the whole
// document per operation, which a 10000-operation patch turns into a denial of service.

import jsonpatch from 'fast-json-patch';
import { StatusError } from './status-error.js';

export const MAX_JSON_PATCH_OPERATIONS = 10000;
/** Upper bound on the JSON size that `copy` operations may add, against patches that double a document repeatedly. */
export const MAX_ACCUMULATED_COPY_BYTES = 10 * 1024 * 1024;

const ops = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The 422 upstream answers for a patch that cannot be applied, with what went wrong as its cause. */
function unprocessable(detail: string): StatusError {
  return new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ message: detail }],
  });
}

function goTypeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** JSON pointer tokens (RFC 6901); the caller has checked the leading '/'. */
function tokens(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function resolve(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  let cur = doc;
  for (const t of tokens(pointer)) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= cur.length) return { found: false };
      cur = cur[Number(t)];
    } else if (isObject(cur)) {
      if (!Object.hasOwn(cur, t)) return { found: false };
      cur = cur[t];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: cur };
}

function parentPointer(pointer: string): string {
  return pointer.slice(0, pointer.lastIndexOf('/'));
}

function describe(i: number, op: Obj): string {
  return `operation ${i} (${String(op.op)} ${JSON.stringify(op.path)})`;
}

/** Structural checks of one operation, then the document checks fast-json-patch would do, without cloning. */
function checkOperation(op: Obj, i: number, doc: unknown): void {
  if (typeof op.op !== 'string' || !ops.has(op.op)) {
    throw unprocessable(`Unexpected kind: ${typeof op.op === 'string' ? op.op : 'unknown'} in operation ${i}`);
  }
  if (typeof op.path !== 'string') throw unprocessable(`${describe(i, op)}: missing or non-string "path"`);
  if (op.path !== '' && !op.path.startsWith('/')) throw unprocessable(`${describe(i, op)}: "path" must start with "/"`);
  if ((op.op === 'add' || op.op === 'replace' || op.op === 'test') && !Object.hasOwn(op, 'value')) {
    throw unprocessable(`${describe(i, op)}: missing "value"`);
  }
  if (op.op === 'move' || op.op === 'copy') {
    if (typeof op.from !== 'string') throw unprocessable(`${describe(i, op)}: missing or non-string "from"`);
    if (op.from !== '' && !op.from.startsWith('/')) throw unprocessable(`${describe(i, op)}: "from" must start with "/"`);
    if (!resolve(doc, op.from).found) throw unprocessable(`${describe(i, op)}: "from" ${JSON.stringify(op.from)} does not exist`);
    if (op.op === 'move' && op.path.startsWith(`${op.from}/`)) {
      throw unprocessable(`${describe(i, op)}: a value cannot be moved into one of its own children`);
    }
  }
  switch (op.op) {
    case 'remove':
    case 'replace':
    case 'test':
      if (op.path !== '' && !resolve(doc, op.path).found) throw unprocessable(`${describe(i, op)}: the path does not exist`);
      break;
    case 'add':
    case 'move':
    case 'copy':
      if (op.path !== '') {
        const parent = resolve(doc, parentPointer(op.path));
        if (!parent.found || (typeof parent.value !== 'object' || parent.value === null)) {
          throw unprocessable(`${describe(i, op)}: the parent of the path does not exist`);
        }
      }
      break;
  }
}

const noopValidator = (): void => {};

/**
 * Applies an RFC 6902 patch to a copy of `doc` and returns the result. `ops` is the decoded request body.
 */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) {
    throw StatusError.badRequest(`json: cannot unmarshal ${goTypeOf(ops)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of ops) {
    if (!isObject(op)) {
      throw StatusError.badRequest(`json: cannot unmarshal ${goTypeOf(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new StatusError(
      413,
      'RequestEntityTooLarge',
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
    );
  }

  let current: unknown = jsonpatch.deepClone(doc);
  let copied = 0;
  (ops as Obj[]).forEach((raw, i) => {
    // our own shallow copy: fast-json-patch stores op.value by reference in the document
    const op: Obj = { ...raw };
    checkOperation(op, i, current);
    if (op.op === 'copy') {
      copied += JSON.stringify(resolve(current, op.from as string).value ?? null).length;
      if (copied > MAX_ACCUMULATED_COPY_BYTES) {
        throw unprocessable(`${describe(i, op)}: copy operations would add more than ${MAX_ACCUMULATED_COPY_BYTES} bytes`);
      }
    }
    if (op.op === 'add' || op.op === 'replace') op.value = jsonpatch.deepClone(op.value);
    try {
      // a validator function (ours ran above) keeps fast-json-patch's index checks without its cloning validator
      const res = jsonpatch.applyOperation(current, op as unknown as jsonpatch.Operation, noopValidator, true, true, i);
      current = res.newDocument;
    } catch (e) {
      if (e instanceof StatusError) throw e;
      const first = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      const name = e instanceof Error && e.name === 'TEST_OPERATION_FAILED' ? `testing value ${String(op.path)} failed` : first;
      throw unprocessable(`${describe(i, op)}: ${name}`);
    }
  });
  return current;
}
