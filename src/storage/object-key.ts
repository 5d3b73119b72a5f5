// Objects are keyed like upstream's etcd keys below the resource prefix: `<namespace>/<name>`, or `<name>` for
// cluster-scoped objects, compared bytewise (k8s.io/apiserver/pkg/registry/generic/registry/store.go NamespaceKeyFunc).
// Lists come back in this key order and continue tokens carry a key, exactly as with the etcd3 store.

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** The half-open key range [from, to) holding one namespace's objects ('0' is the character after '/'). */
export function namespaceRange(namespace: string): { from: string; to: string } {
  return { from: `${namespace}/`, to: `${namespace}0` };
}

/** Names and namespaces become path segments of the key, so they may not contain '/' (nor be empty). */
export function assertKeyPart(what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '' || value.includes('/') || value.includes('\u0000')) {
    throw new TypeError(`store: invalid ${what} ${JSON.stringify(value)}`);
  }
}

/** Bytewise (UTF-8) order, as SQLite's BINARY collation and etcd compare keys. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
