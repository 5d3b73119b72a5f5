// Periodic compaction of etcd's history, shared by every replica, as kube-apiserver does it
// (k8s.io/apiserver/pkg/storage/etcd3/compact.go): every interval each replica tries a compare-and-swap on the
// version of `compact_rev_key`; the one that wins compacts to the revision it recorded one interval earlier and
// stores the current revision. So history always covers at least one interval, only one replica compacts per interval,
// and when it dies another takes over after at most two intervals. (Same key as upstream: replicas sharing an etcd
// with a kube-apiserver coordinate with it too.)
import { CompareResult, CompareTarget, type Etcd3 } from 'etcd3';

export const COMPACT_REV_KEY = Buffer.from('compact_rev_key', 'utf8');

export interface CompactorState {
  /** The compact_rev_key version this replica last saw ("logical compaction time"). */
  time: number;
  /** The revision to compact to at the next successful turn (0 = none yet). */
  revision: number;
}

/**
 * One turn: returns the next state and the revision compacted (undefined when another replica's turn or the first).
 * `compact` does the compaction (errors propagate; the state still advances, as upstream's).
 */
export async function compactTurn(
  client: Etcd3,
  state: CompactorState,
  compact: (revision: number) => Promise<void>,
): Promise<{ state: CompactorState; compacted?: number }> {
  const res = await client.kv.txn({
    compare: [{ key: COMPACT_REV_KEY, target: CompareTarget.Version, result: CompareResult.Equal, version: state.time }],
    success: [{ request_put: { key: COMPACT_REV_KEY, value: Buffer.from(String(state.revision), 'utf8') } }],
    failure: [{ request_range: { key: COMPACT_REV_KEY } }],
  });
  const current = Number(res.header.revision);
  if (!res.succeeded) {
    const kv = res.responses[0]?.response_range?.kvs[0];
    return { state: { time: kv ? Number(kv.version) : 0, revision: current } };
  }
  const next = { time: state.time + 1, revision: current };
  if (state.revision === 0) return { state: next }; // nothing recorded yet: no compaction at bootstrap
  await compact(state.revision);
  return { state: next, compacted: state.revision };
}

export class Compactor {
  private state: CompactorState = { time: 0, revision: 0 };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: Etcd3,
    private readonly intervalMs: number,
    private readonly compact: (revision: number) => Promise<void>,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = compactTurn(this.client, this.state, this.compact)
        .then((turn) => {
          this.state = turn.state;
        })
        .catch(this.onError)
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
