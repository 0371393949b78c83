import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a recording server received. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RecordingServer {
  url: string;
  seen: SeenRequest[];
  server: Server;
  close(): Promise<void>;
}

export type Reply = (status: number, body: unknown) => void;

/**
 * A local HTTP server on 127.0.0.1 that records every request (with its whole body) and answers it with
 * `answer` (default: 200 `{"ok":true}`): a stand-in for a service the code under test calls.
 */
export async function recordingServer(
  answer: (request: SeenRequest, reply: Reply) => void = (_request, reply) => reply(200, { ok: true }),
): Promise<RecordingServer> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(request);
      answer(request, (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
