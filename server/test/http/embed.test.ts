// Tutorials elsewhere, through the real server: only /embed may be framed, and only by the origins the
// operator lists; every other page stays unframeable; "Open in Dockside" links (/try) land on the right
// page; a bad address answers 400 with what is wrong; and the embed's session is the learner's own, handed
// over once from a first-party window, never usable by the embedding site's own requests.
import { loadLessons } from '@dockside/lessons';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Learner } from '../support/learner';
import { startServer, type RunningServer } from '../support/server';

const TUTORIAL = 'https://tutorial.example';
const OTHER_TUTORIAL = 'http://localhost:4444';
let server: RunningServer;

const lessons = loadLessons();
const intro = lessons.find((l) => l.id === 'Docker_Intro')!;
const withExercise = lessons.find((l) => l.exercises.length > 0);

/** The value of one directive of a content security policy. */
function directive(csp: string | null, name: string): string | undefined {
  return (csp ?? '')
    .split(';')
    .map((d) => d.trim())
    .find((d) => d.startsWith(`${name} `))
    ?.slice(name.length + 1);
}

/** The one-line problem a 400 page shows, as the reader sees it. */
function problemOf(html: string): string | undefined {
  const text = /<p role="alert" id="problem">([^<]*)<\/p>/.exec(html)?.[1];
  const entities: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&amp;': '&' };
  return text?.replace(/&(lt|gt|quot|#39|amp);/g, (e) => entities[e]!);
}

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { redirect: 'manual', headers });

beforeAll(async () => {
  server = await startServer({ DOCKSIDE_EMBED_ORIGINS: `${TUTORIAL},${OTHER_TUTORIAL}/` });
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

describe('framing', () => {
  it('/embed may be framed by exactly the configured origins', async () => {
    for (const path of [
      `/embed?lesson=Docker_Intro&step=${intro.steps[1]!.id}`,
      '/embed?images=nginx,busybox&editor=1',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy');
      expect(directive(csp, 'frame-ancestors'), path).toBe(`${TUTORIAL} ${OTHER_TUTORIAL}`);
      expect(res.headers.get('x-frame-options'), path).toBeNull();
      // Still a page of this server's scripts only.
      expect(directive(csp, 'script-src')).toMatch(/^'self' 'nonce-[^']+' 'strict-dynamic'$/);
      await res.body?.cancel();
    }
  });

  it('every other page, the connect window and the API stay unframeable', async () => {
    const s = await Learner.join(server.url);
    for (const path of [
      '/',
      '/lessons/Docker_Intro',
      '/instructor',
      '/embed/connect',
      '/embedx',
      '/embed/other',
      '/no-such-page',
    ]) {
      const res = await get(path, { cookie: s.cookie });
      expect(directive(res.headers.get('content-security-policy'), 'frame-ancestors'), path).toBe("'none'");
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      await res.body?.cancel();
    }
    const api = await get('/api/embed/session');
    expect(directive(api.headers.get('content-security-policy'), 'frame-ancestors')).toBe("'none'");
    await api.body?.cancel();
  });

  it('a bad /embed address answers 400 with the problem in one line, inside the frame where the author looks', async () => {
    const res = await get('/embed?lesson=No_Such_Lesson');
    expect(res.status).toBe(400);
    expect(directive(res.headers.get('content-security-policy'), 'frame-ancestors')).toBe(
      `${TUTORIAL} ${OTHER_TUTORIAL}`,
    );
    expect(problemOf(await res.text())).toMatch(/^there is no lesson No_Such_Lesson; the lessons are Docker_Intro, /);
  });
});

describe('/try', () => {
  it('lands on the lesson, at the step or the exercise, or on a plain sandbox with the images', async () => {
    const step = intro.steps[2]!.id;
    const cases: [string, string][] = [
      [`/try?lesson=Docker_Intro&step=${step}`, `/lessons/Docker_Intro?step=${step}`],
      ['/try?lesson=Docker_Intro', '/lessons/Docker_Intro'],
      ['/try?images=nginx,busybox', '/embed?images=nginx%2Cbusybox'],
      ['/try?images=python:3-slim&editor=1', '/embed?images=python%3A3-slim&editor=1'],
    ];
    expect(withExercise, 'a lesson with exercises').toBeDefined();
    const exercise = withExercise!.exercises[0]!.id;
    cases.push([
      `/try?lesson=${withExercise!.id}&exercise=${exercise}`,
      `/lessons/${withExercise!.id}/exercises/${exercise}`,
    ]);
    for (const [from, to] of cases) {
      const res = await get(from);
      expect(res.status, from).toBe(302);
      expect(res.headers.get('location'), from).toBe(to);
      // Where it lands is a page that is there.
      const landed = await get(to);
      expect(landed.status, to).toBe(200);
      await landed.body?.cancel();
    }
  });

  it('lang= chooses the site’s language, as the language switch does', async () => {
    const res = await get('/try?lesson=Docker_Intro&lang=ko');
    expect(res.headers.get('location')).toBe('/lessons/Docker_Intro');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^dockside_lang=ko; Path=\//);
    const page = await get('/lessons/Docker_Intro', { cookie: cookie.split(';')[0]! });
    expect(await page.text()).toContain(intro.title.ko);
  });

  it('a bad link answers 400 with a page that says what is wrong, not a 500', async () => {
    const cases: [string, string][] = [
      ['/try', 'say what to open: lesson=<id> (with step= or exercise=) or images=<names>'],
      ['/try?lesson=Nope', 'there is no lesson Nope'],
      [
        '/try?lesson=Docker_Intro&step=nope',
        `lesson Docker_Intro has no step nope; its steps are ${intro.steps[0]!.id}`,
      ],
      ['/try?lesson=Docker_Intro&exercise=nope', 'lesson Docker_Intro has no'],
      [`/try?lesson=Docker_Intro&step=${intro.steps[0]!.id}&exercise=x`, 'give step or exercise, not both'],
      ['/try?images=no-such-image', 'images: this Dockside does not carry "no-such-image"; it carries '],
      ['/try?images=nginx:9.9', 'does not carry "nginx:9.9"'],
      ['/try?images=nginx,,redis', 'images: an empty name'],
      ['/try?images=a,b,c,d,e,f', 'images: at most 5 images, not 6'],
      ['/try?images=nginx&lesson=Docker_Intro', 'give either lesson (with step or exercise) or images, not both'],
      ['/try?lesson=Docker_Intro&lesson=Docker_Layers', 'lesson is given twice'],
      ['/try?lesson=Docker_Intro&utm_source=x', 'unknown parameter utm_source; the parameters are lesson, step'],
      ['/try?lesson=Docker_Intro&editor=yes', 'editor="yes" is invalid: expected 0 or 1'],
      ['/try?lesson=<script>', 'lesson="<script>" is invalid: expected letters, digits, - and _'],
    ];
    for (const [path, message] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      const html = await res.text();
      expect(problemOf(html), path).toContain(message);
      expect(html, path).not.toContain('<script>');
    }
  });
});

describe('the embed’s session', () => {
  /** What the connect window hands to the embed that opened it. */
  async function handoffToken(cookie?: string): Promise<{ token: string; setCookie: string | null; res: Response }> {
    const res = await get('/embed/connect', cookie ? { cookie } : {});
    const html = await res.text();
    const token = /"token":"([^"]+)"/.exec(html)?.[1];
    expect(token, html).toBeDefined();
    return { token: token!, setCookie: res.headers.get('set-cookie'), res };
  }

  const redeem = (token: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/embed/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url, 'sec-fetch-site': 'same-origin', ...headers },
      body: JSON.stringify({ token }),
    });

  it('is the learner’s own session: a partitioned cookie with the same learner, made once from a first-party window', async () => {
    const ana = await Learner.join(server.url);
    const { token, res } = await handoffToken(ana.cookie);
    // The window keeps its opener (the embed's frame) and posts only to the app's own origin.
    expect(res.headers.get('cross-origin-opener-policy')).toBe('unsafe-none');
    expect(await (await get('/embed/connect', { cookie: ana.cookie })).text()).toContain(
      'window.opener.postMessage({"type":"dockside:session"',
    );

    // Framed, nothing is sent: no session yet.
    expect(await (await get('/api/embed/session')).json()).toEqual({ linked: false });
    const made = await redeem(token);
    expect(made.status).toBe(200);
    const cookie = made.headers.get('set-cookie')!;
    expect(cookie).toMatch(
      /^dockside_embed=[^;]+; Path=\/; HttpOnly; Secure; SameSite=None; Partitioned; Max-Age=\d+$/,
    );
    const embed = cookie.split(';')[0]!;
    expect(await (await get('/api/embed/session', { cookie: embed })).json()).toEqual({ linked: true });
    const inFrame = await Learner.join(server.url, embed);
    expect(inFrame.id).toBe(ana.id);

    // Once only.
    const again = await redeem(token);
    expect(again.status).toBe(403);
    expect(((await again.json()) as { error: { message: string } }).error.message).toBe(
      'the connection token is invalid, used or expired; press Start again',
    );
  });

  it('a visitor who never came to the site gets a new session in the window, the same on the site afterwards', async () => {
    const { token, setCookie } = await handoffToken();
    const site = setCookie!.split(';')[0]!;
    expect(site).toMatch(/^dockside_session=/);
    const embed = (await redeem(token)).headers.get('set-cookie')!.split(';')[0]!;
    expect((await Learner.join(server.url, embed)).id).toBe((await Learner.join(server.url, site)).id);
  });

  it('refuses forged, malformed or cross-origin handoffs', async () => {
    const { token } = await handoffToken((await Learner.join(server.url)).cookie);
    const [learner, exp, nonce, mac] = token.split('.');
    expect((await redeem(`${learner}x.${exp}.${nonce}.${mac}`)).status).toBe(403);
    expect((await redeem(`${learner}.${Number(exp) + 60_000}.${nonce}.${mac}`)).status).toBe(403);
    const bad = await redeem(42);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      'expected { "token": "…" } from /embed/connect',
    );
    // The embedding site's own script cannot post a token (nor anyone else's page).
    const cross = await redeem(token, { origin: TUTORIAL, 'sec-fetch-site': 'cross-site' });
    expect(cross.status).toBe(403);
    // The genuine token still works from the app's own page.
    expect((await redeem(token)).status).toBe(200);
  });

  it('socket.io takes the embed’s cookie from the embed’s own origin (Dockside’s) only, never the tutorial’s', async () => {
    const ana = await Learner.join(server.url);
    const embed = (await redeem((await handoffToken(ana.cookie)).token)).headers.get('set-cookie')!.split(';')[0]!;
    const answer = (origin: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(server.url, {
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          extraHeaders: { cookie: embed, origin },
        });
        socket.on('connect', () => (socket.close(), resolve('connected')));
        socket.on('connect_error', (err) => (socket.close(), resolve(err.message)));
      });
    expect(await answer(server.url)).toBe('connected');
    for (const origin of [TUTORIAL, OTHER_TUTORIAL])
      expect(await answer(origin)).toMatch(/cross-origin connections are refused|websocket error/);
  });
});
