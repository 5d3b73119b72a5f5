// The plumbing both cloud fakes share: a plain HTTP server on 127.0.0.1 (free port) that remembers its open
// connections so stop() can cut them (the SDKs keep sockets alive, and close() alone would wait for them), the
// request body as text, and the two faults that strike after the work is done (a lost or a late answer).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeRequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export class FakeHttpServer {
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly handler: FakeRequestHandler) {}

  async start(): Promise<{ url: string; port: number }> {
    const server = http.createServer((req, res) => void this.handler(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    return { url: `http://127.0.0.1:${port}`, port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The faults a fake applies once the call is done: `lost-response` ('reset', or a mode naming an error answer) and `slow`. */
export interface AfterWorkFault {
  kind: string;
  mode?: string;
  delayMs?: number;
}

/**
 * Answers a call whose work is done, unless `fault` loses the answer (the connection is reset, or with any other
 * `mode` the fake's `lostAnswer` error is sent instead) or delays it (`slow`; a client that gave up meanwhile gets nothing).
 */
export async function answerUnlessLost(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  fault: AfterWorkFault | undefined,
  answer: () => void,
  lostAnswer: () => void,
): Promise<void> {
  if (fault?.kind === 'lost-response') {
    if (fault.mode !== undefined && fault.mode !== 'reset') return lostAnswer();
    req.socket.destroy();
    return;
  }
  if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 0));
  if (res.destroyed) return;
  answer();
}
