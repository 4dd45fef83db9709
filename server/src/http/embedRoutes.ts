// The addresses other sites' tutorials use: /embed (the framed sandbox, a Next.js page, whose query is
// checked here first), /try ("Open in Dockside": a redirect to the lesson, step or exercise, or to a plain
// sandbox), and the embed's session handoff (embedSession.ts). A bad address answers 400 with a page that
// says what is wrong in one line, framed or not, rather than a broken sandbox.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Lesson } from '@dockside/lessons';
import { exercisePath, type CatalogueImage } from '@dockside/protocol';
import { parseTarget, TargetError, type EmbedTarget } from './embedTarget';
import { handleEmbedSession, sendConnectPage, type EmbedHandoff } from './embedSession';
import { localeFrom } from './previewPage';
import { EMBED_PATH, framersOf, pagePolicy } from './securityHeaders';
import type { Sessions } from './session';

export const TRY_PATH = '/try';
const LOCALE_COOKIE = 'dockside_lang';

export type EmbedDeps = {
  sessions: Sessions;
  handoff: EmbedHandoff;
  lessons: () => Lesson[];
  catalogue: () => CatalogueImage[];
  embedOrigins: readonly string[];
  dev: boolean;
};

/** Answers /try, /embed/connect and /api/embed/session, and a bad /embed; false for anything else. */
export async function handleEmbedRoutes(req: IncomingMessage, res: ServerResponse, deps: EmbedDeps): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/api/embed/session') return handleEmbedSession(req, res, deps).then(() => true);
  if (url.pathname === '/embed/connect') return (sendConnectPage(req, res, deps), true);
  if (url.pathname !== TRY_PATH && url.pathname !== EMBED_PATH) return false;
  let target: EmbedTarget;
  try {
    target = parseTarget(url.searchParams, deps.lessons(), deps.catalogue());
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    sendProblem(req, res, err.message, framersOf(url.pathname, deps.embedOrigins), deps.dev);
    return true;
  }
  if (url.pathname === EMBED_PATH) return false; // the page itself (web/app/embed)
  if (target.lang)
    res.setHeader('set-cookie', `${LOCALE_COOKIE}=${target.lang}; Path=/; Max-Age=31536000; SameSite=Lax`);
  res.writeHead(302, { location: tryDestination(target), 'cache-control': 'no-store' });
  res.end();
  return true;
}

/** Where an "Open in Dockside" link lands on the site. */
export function tryDestination(t: EmbedTarget): string {
  if (t.kind === 'images') {
    const q = new URLSearchParams({ images: t.images.join(',') });
    if (t.editor) q.set('editor', '1');
    return `${EMBED_PATH}?${q}`;
  }
  const lesson = `/lessons/${encodeURIComponent(t.lessonId)}`;
  if (t.exerciseId) return exercisePath(t.lessonId, t.exerciseId);
  return t.stepId ? `${lesson}?step=${encodeURIComponent(t.stepId)}` : lesson;
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function sendProblem(
  req: IncomingMessage,
  res: ServerResponse,
  message: string,
  framers: readonly string[],
  dev: boolean,
): void {
  const ko = localeFrom(req.headers['accept-language']) === 'ko';
  // Shown where the sandbox would have been, so the tutorial's author sees it in their own page.
  res.setHeader('content-security-policy', pagePolicy(randomBytes(16).toString('base64'), dev, framers));
  if (framers.length > 0) res.removeHeader('x-frame-options');
  res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html>
<html lang="${ko ? 'ko' : 'en'}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${ko ? '이 Dockside 주소는 올바르지 않습니다' : 'This Dockside address is not valid'}</title></head>
<body style="font-family: system-ui, sans-serif; margin: 1.5rem; line-height: 1.5">
<h1 style="font-size: 1.2rem">${ko ? '이 Dockside 주소는 올바르지 않습니다' : 'This Dockside address is not valid'}</h1>
<p role="alert" id="problem">${escape(message)}</p>
<p><a href="/" target="_top">${ko ? 'Dockside로 가기' : 'Go to Dockside'}</a></p>
</body>
</html>`);
}
