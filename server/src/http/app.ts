// One process, one port: the REST API, socket.io, port previews and the Next.js pages share one server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { attachInstructorRealtime } from '../realtime/instructorSocket';
import { attachRealtime, type Io } from '../realtime/io';
import { learnerRoom } from '../realtime/learnerSocket';
import { handleApi, type ApiDeps } from './api';
import { handlePreview, handlePreviewUpgrade } from './preview';
import { answerClientError, HttpError, sendError } from './respond';

export type PageHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export type App = { server: Server; io: Io };

export function createApp(deps: ApiDeps & { pages: PageHandler; lessonsDir: string }): App {
  const server = createServer((req, res) => {
    void route(req, res).catch((err) => {
      console.error('http:', err);
      if (!res.headersSent) sendError(res, new HttpError(500, 'internal', 'something went wrong on the server'));
      else res.destroy();
    });
  });
  server.on('clientError', answerClientError);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await handleApi(req, res, deps)) return;
    if (await handlePreview(req, res, deps.sessions, deps.engine)) return;
    // A page sets the session cookie; the learner's row waits for their first real action (admission.ts).
    if (!req.url?.startsWith('/_next/')) deps.sessions.ensure(req, res);
    await deps.pages(req, res);
  }

  server.on('upgrade', (req, socket, head) => {
    void handlePreviewUpgrade(req, socket, head, deps.sessions, deps.engine).catch(() => socket.destroy());
  });
  const io = attachRealtime(server, deps.sessions, deps.engine, deps.lessonsDir);
  const instructors = attachInstructorRealtime(io, deps);
  deps.workshops.subscribe((e) => {
    if (e.type === 'notify') io.to(learnerRoom(e.learnerId)).emit('toast', { message: e.message, from: e.from });
    else instructors.workshopChanged(e.workshopId);
  });
  return { server, io };
}
