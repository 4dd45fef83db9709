// Whether a registry answers on a unix socket.
import { request } from 'node:http';

/** GET /v2/ on a registry's unix socket: true when it answers 200 within a second. */
export function registryAnswers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/v2/', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
