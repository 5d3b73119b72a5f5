// The list continue token, shaped like upstream's so that it reads the same in logs:
// base64url(JSON {"v":"meta.k8s.io/v1","rv":<list revision>,"start":"<next key>"})
// (k8s.io/apiserver/pkg/storage/continue.go EncodeContinue/DecodeContinue).
import { StorageError } from './store.js';

const TOKEN_VERSION = 'meta.k8s.io/v1';

export interface ContinuePosition {
  /** The revision of the first page: every page is a consistent read at this revision. */
  rv: number;
  /** The first key (bytewise) the next page may hold. */
  start: string;
}

export function encodeContinue(position: ContinuePosition): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, rv: position.rv, start: position.start }), 'utf8').toString(
    'base64url',
  );
}

export function decodeContinue(token: string): ContinuePosition {
  const invalid = (why: string) => new StorageError('InvalidContinue', `continue key is not valid: ${why}`);
  if (!/^[A-Za-z0-9_\-+/]+={0,2}$/.test(token)) throw invalid('not base64');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (parsed === null || typeof parsed !== 'object') throw invalid('not an object');
  const { v, rv, start } = parsed as Record<string, unknown>;
  if (v !== TOKEN_VERSION) throw new StorageError('InvalidContinue', 'continue key is not supported by this server');
  if (typeof rv !== 'number' || !Number.isSafeInteger(rv) || rv <= 0) {
    throw invalid(`incorrect encoded start resourceVersion (version ${TOKEN_VERSION})`);
  }
  if (typeof start !== 'string' || start === '' || start.split('/').some((part) => part === '..' || part === '.')) {
    throw invalid(`encoded start key is not a valid key`);
  }
  return { rv, start };
}
