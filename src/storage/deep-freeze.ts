// Watch events are shared by every watcher of a resource, so they are frozen once instead of copied per watcher
// (1,000 watchers × one event would otherwise be 1,000 deep copies). A consumer that mutates one gets a TypeError
// (ESM code is strict) rather than silently corrupting what other watchers see.
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
