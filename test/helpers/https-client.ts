// A minimal HTTPS client for tests that need exact control over certificates, headers and bodies.
import https from 'node:https';
import type { SecureVersion } from 'node:tls';

export interface HttpsRequest {
  url: string;
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  maxVersion?: SecureVersion;
  minVersion?: SecureVersion;
  timeoutMs?: number;
}

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = unknown>(): T;
}

export function httpsRequest(r: HttpsRequest): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      r.url,
      {
        method: r.method ?? 'GET',
        headers: r.headers,
        ca: r.ca,
        cert: r.cert,
        key: r.key,
        maxVersion: r.maxVersion,
        minVersion: r.minVersion,
        rejectUnauthorized: !!r.ca,
        agent: false,
        timeout: r.timeoutMs ?? 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(r.body);
  });
}
