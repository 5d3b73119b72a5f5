// Keeps track of ConfigMap kube-system/extension-apiserver-authentication, where kube-apiserver publishes the
// client CA and the front-proxy (requestheader) settings for aggregated servers. Read once, then watched; a dropped
// or failed watch is followed by a fresh read and a new watch, with exponential backoff between failures
// (what k8s.io/apiserver/pkg/server/dynamiccertificates and the requestheader controller do with an informer).
import { ApiException, CoreV1Api, KubeConfig, Watch, type V1ConfigMap } from '@kubernetes/client-node';

export const AUTHENTICATION_CONFIGMAP = { namespace: 'kube-system', name: 'extension-apiserver-authentication' };

export type ConfigMapData = Record<string, string>;

export interface ConfigMapWatcherOptions {
  namespace?: string;
  name?: string;
  /** First delay after a failure; doubles up to maxBackoffMs. Default 500 ms. */
  minBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
  /** Called with each failure of a read or a watch (the watcher retries by itself). */
  onError?: (err: Error) => void;
}

function asError(call: string, err: unknown): Error {
  if (err instanceof ApiException) return new Error(`${call}: HTTP ${err.code}`);
  const e = err as { message?: unknown; statusCode?: unknown };
  if (typeof e?.statusCode === 'number') return new Error(`${call}: HTTP ${e.statusCode}`);
  return new Error(`${call}: ${typeof e?.message === 'string' ? e.message : String(err)}`);
}

export class ConfigMapWatcher {
  private readonly core: CoreV1Api;
  private readonly watch: Watch;
  private readonly namespace: string;
  private readonly name: string;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private backoffMs: number;
  private stopped = false;
  private abort?: AbortController;
  private timer?: NodeJS.Timeout;
  private onChange: (data: ConfigMapData | undefined) => void = () => {};
  private last: string | undefined;

  constructor(
    kc: KubeConfig,
    private readonly opts: ConfigMapWatcherOptions = {},
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.watch = new Watch(kc);
    this.namespace = opts.namespace ?? AUTHENTICATION_CONFIGMAP.namespace;
    this.name = opts.name ?? AUTHENTICATION_CONFIGMAP.name;
    this.minBackoffMs = opts.minBackoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.backoffMs = this.minBackoffMs;
  }

  /**
   * Reads the ConfigMap (undefined when it does not exist) and starts watching it; `onChange` is then called with
   * every later change of its data (undefined once deleted). Rejects when the first read fails; keeps retrying
   * in the background either way until stop().
   */
  async start(onChange: (data: ConfigMapData | undefined) => void): Promise<ConfigMapData | undefined> {
    this.onChange = onChange;
    try {
      const { data, resourceVersion } = await this.read();
      this.last = JSON.stringify(data ?? null);
      void this.startWatch(resourceVersion);
      return data;
    } catch (err) {
      this.retryLater(err as Error);
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
  }

  private async read(): Promise<{ data: ConfigMapData | undefined; resourceVersion: string }> {
    try {
      const cm: V1ConfigMap = await this.core.readNamespacedConfigMap({ namespace: this.namespace, name: this.name });
      return { data: cm.data ?? {}, resourceVersion: cm.metadata?.resourceVersion ?? '' };
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) {
        // Absent: watch the (empty) collection from its current resourceVersion so a later create is seen.
        const list = await this.core.listNamespacedConfigMap({
          namespace: this.namespace,
          fieldSelector: `metadata.name=${this.name}`,
        });
        return { data: undefined, resourceVersion: list.metadata?.resourceVersion ?? '' };
      }
      throw asError(`reading configmap ${this.namespace}/${this.name}`, err);
    }
  }

  private emit(data: ConfigMapData | undefined): void {
    const key = JSON.stringify(data ?? null);
    if (key === this.last) return;
    this.last = key;
    this.onChange(data);
  }

  private async startWatch(resourceVersion: string): Promise<void> {
    if (this.stopped) return;
    let failed: Error | undefined;
    let sawEvent = false;
    const path = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/configmaps`;
    const query: Record<string, string | boolean> = { fieldSelector: `metadata.name=${this.name}`, allowWatchBookmarks: true };
    if (resourceVersion) query.resourceVersion = resourceVersion;
    try {
      this.abort = await this.watch.watch(
        path,
        query,
        (type: string, obj: V1ConfigMap | { code?: number; message?: string }) => {
          if (type === 'ERROR') {
            failed = new Error(`watching configmap ${this.namespace}/${this.name}: ${(obj as { message?: string }).message ?? 'error event'}`);
            this.abort?.abort();
            return;
          }
          sawEvent = true;
          const cm = obj as V1ConfigMap;
          if (cm.metadata?.name !== this.name) return;
          if (type === 'ADDED' || type === 'MODIFIED') this.emit(cm.data ?? {});
          else if (type === 'DELETED') this.emit(undefined);
          if (cm.metadata?.resourceVersion) resourceVersion = cm.metadata.resourceVersion;
        },
        (err: unknown) => {
          if (this.stopped) return;
          const why = failed ?? (err ? asError(`watching configmap ${this.namespace}/${this.name}`, err) : undefined);
          if (why) {
            this.retryLater(why);
            return;
          }
          // A clean end (server timeout): re-read and watch again, at once when the watch was healthy.
          if (sawEvent) this.backoffMs = this.minBackoffMs;
          this.schedule(sawEvent ? 0 : this.nextBackoff());
        },
      );
    } catch (err) {
      // e.g. the kubeconfig's credentials could not be produced (request failures arrive through `done`).
      this.retryLater(asError(`watching configmap ${this.namespace}/${this.name}`, err));
    }
  }

  private nextBackoff(): number {
    const d = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    return d;
  }

  private retryLater(err: Error): void {
    if (this.stopped) return;
    this.opts.onError?.(err);
    this.schedule(this.nextBackoff());
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.relist(), delayMs);
    this.timer.unref();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const { data, resourceVersion } = await this.read();
      this.backoffMs = this.minBackoffMs;
      this.emit(data);
      await this.startWatch(resourceVersion);
    } catch (err) {
      this.retryLater(err as Error);
    }
  }
}
