// Which revision a list or watch is served at, as Kubernetes defines it
// (https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-get-and-list and
// k8s.io/apiserver/pkg/storage/cacher/cacher.go). Pure functions of the request and the store's window.
import { StorageError, type ListOptions } from './store.js';
import { decodeContinue } from './continue-token.js';

export function parseResourceVersion(value: string): number {
  if (!/^[0-9]{1,15}$/.test(value)) {
    throw new StorageError('InvalidResourceVersion', `invalid resource version: ${JSON.stringify(value)}`, undefined, {
      requested: value,
    });
  }
  return Number(value);
}

export interface Window {
  /** The store's latest revision. */
  current: number;
  /** The newest revision pruned from the history: revisions ≥ compacted can still be reconstructed. */
  compacted: number;
}

export function tooLarge(requested: number, current: number): StorageError {
  return new StorageError(
    'TooLargeResourceVersion',
    `Too large resource version: ${requested}, current: ${current}`,
    undefined,
    { requested: String(requested), current: String(current) },
  );
}

/** details.oldest is the oldest revision still kept; upstream prints `(<oldest-1>)` for watches. */
export function expired(message: string, requested: number, window: Window): StorageError {
  return new StorageError('Expired', message, undefined, {
    requested: String(requested),
    oldest: String(window.compacted + 1),
  });
}

export interface ListPosition {
  /** The revision the returned list is consistent at. */
  rv: number;
  /** The first key of this page (inclusive), '' for the first page. */
  start: string;
}

export function resolveListPosition(options: ListOptions, window: Window): ListPosition {
  if (options.continue) {
    const position = decodeContinue(options.continue);
    if (position.rv > window.current) throw tooLarge(position.rv, window.current);
    if (position.rv < window.compacted) {
      throw expired(
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        position.rv,
        window,
      );
    }
    return position;
  }
  const requested = options.resourceVersion;
  if (requested === undefined || requested === '' || requested === '0') return { rv: window.current, start: '' };
  const rv = parseResourceVersion(requested);
  if (rv > window.current) throw tooLarge(rv, window.current);
  // A legacy list with a limit and an explicit revision is an exact read (it went to etcd upstream).
  const exact = options.resourceVersionMatch === 'Exact' || (!options.resourceVersionMatch && !!options.limit);
  if (!exact) return { rv: window.current, start: '' };
  if (rv < window.compacted) throw expired('The resourceVersion for the provided list is too old.', rv, window);
  return { rv, start: '' };
}

export type WatchStart =
  | { kind: 'current-state' } // ADDED for the current state, then live
  | { kind: 'initial-events' } // ADDED for the current state, a BOOKMARK with initialEventsEnd, then live
  | { kind: 'replay'; after: number }; // every event after `after`, then live

export function resolveWatchStart(
  resourceVersion: string | undefined,
  sendInitialEvents: boolean | undefined,
  window: Window,
): WatchStart {
  const unset = resourceVersion === undefined || resourceVersion === '' || resourceVersion === '0';
  const rv = unset ? 0 : parseResourceVersion(resourceVersion);
  if (rv > window.current) throw tooLarge(rv, window.current);
  if (sendInitialEvents) return { kind: 'initial-events' };
  if (unset) return { kind: 'current-state' };
  if (rv < window.compacted) throw expired(`too old resource version: ${rv} (${window.compacted})`, rv, window);
  return { kind: 'replay', after: rv };
}
