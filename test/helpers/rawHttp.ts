import http from 'node:http';

/**
 * A raw HTTP request to 127.0.0.1:`port`, so the Host and Origin headers can be anything (fetch sets its own).
 * Answers the status and, for a JSON reply, the parsed body.
 */
export function rawRequest(
  port: number,
  method: string,
  route: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: route, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const json = res.headers['content-type']?.startsWith('application/json')
          ? (JSON.parse(text) as unknown)
          : {};
        resolve({ status: res.statusCode ?? 0, json: json as Record<string, unknown> });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
