// The page a preview origin shows instead of the learner's web server: not yours, expired, not running,
// nothing listening. A person opened it in a browser tab, so it is a page in their language, not JSON.
import type { ServerResponse } from 'node:http';
import type { Locale } from './previewAccess';

export type PreviewProblem =
  'closed' | 'expired' | 'forged' | 'not_yours' | 'not_running' | 'nothing_listening' | 'unknown';

const STATUS: Record<PreviewProblem, number> = {
  closed: 403,
  expired: 403,
  forged: 403,
  not_yours: 403,
  not_running: 404,
  nothing_listening: 502,
  unknown: 404,
};

type Text = { title: string; body: (port: number) => string; how: string };

const HOW = {
  en: 'To open your own preview, go back to your lesson page and click the port’s link under “Open ports” at the top.',
  ko: '내 미리보기를 열려면 레슨 페이지로 돌아가 위쪽 “열린 포트”의 포트 링크를 누르세요.',
};

const TEXT: Record<Locale, Record<PreviewProblem, Text>> = {
  en: {
    closed: {
      title: 'This preview opens from its learner’s lesson page',
      body: () => 'A port preview opens only for the learner whose sandbox runs it, from a link on their lesson page.',
      how: HOW.en,
    },
    expired: {
      title: 'This preview link has expired',
      body: () => 'A preview link works once, within a minute of clicking it, and a preview stays open for 8 hours.',
      how: HOW.en,
    },
    forged: {
      title: 'This preview link is not valid',
      body: () => 'The link was changed or was not made by this Dockside server.',
      how: HOW.en,
    },
    not_yours: {
      title: 'This preview is not yours',
      body: () => 'It belongs to another learner’s sandbox.',
      how: HOW.en,
    },
    not_running: {
      title: 'This sandbox is not running',
      body: () => 'It was stopped, reset or ended.',
      how: HOW.en,
    },
    nothing_listening: {
      title: 'Nothing answers on this port',
      body: (port) =>
        `Nothing answers on port ${port} in your sandbox; start a container with -p ${port}:… and reload this page.`,
      how: 'If it is starting, wait a moment and reload.',
    },
    unknown: {
      title: 'There is no such preview',
      body: () => 'A preview address looks like http://8080-SANDBOX.… (a port, a dash and a sandbox).',
      how: HOW.en,
    },
  },
  ko: {
    closed: {
      title: '이 미리보기는 해당 학습자의 레슨 페이지에서 열립니다',
      body: () => '포트 미리보기는 그 샌드박스의 학습자만, 자신의 레슨 페이지에 있는 링크로 열 수 있습니다.',
      how: HOW.ko,
    },
    expired: {
      title: '이 미리보기 링크는 만료되었습니다',
      body: () => '미리보기 링크는 누른 뒤 1분 안에 한 번만 쓸 수 있고, 열린 미리보기는 8시간 동안 유지됩니다.',
      how: HOW.ko,
    },
    forged: {
      title: '올바른 미리보기 링크가 아닙니다',
      body: () => '링크가 바뀌었거나 이 Dockside 서버가 만든 링크가 아닙니다.',
      how: HOW.ko,
    },
    not_yours: {
      title: '내 미리보기가 아닙니다',
      body: () => '다른 학습자의 샌드박스에 속한 미리보기입니다.',
      how: HOW.ko,
    },
    not_running: {
      title: '이 샌드박스는 실행 중이 아닙니다',
      body: () => '샌드박스가 멈췄거나, 초기화되었거나, 종료되었습니다.',
      how: HOW.ko,
    },
    nothing_listening: {
      title: '이 포트에서 응답하는 것이 없습니다',
      body: (port) =>
        `샌드박스의 ${port}번 포트에서 응답하는 것이 없습니다. -p ${port}:… 로 컨테이너를 시작한 뒤 이 페이지를 새로 고치세요.`,
      how: '시작하는 중이라면 잠시 기다렸다가 새로 고치세요.',
    },
    unknown: {
      title: '그런 미리보기는 없습니다',
      body: () => '미리보기 주소는 http://8080-샌드박스.… 처럼 포트, 대시, 샌드박스 이름으로 되어 있습니다.',
      how: HOW.ko,
    },
  },
};

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The best of en/ko in an Accept-Language header (English when neither is asked for). */
export function localeFrom(acceptLanguage: string | undefined): Locale {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^q=([\d.]+)$/.exec(p.trim())?.[1]).find(Boolean);
      return { tag: (tag ?? '').toLowerCase(), q: q ? Number(q) : 1 };
    })
    .filter((x) => x.tag && x.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    if (tag.startsWith('ko')) return 'ko';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}

export function sendPreviewProblem(
  res: ServerResponse,
  problem: PreviewProblem,
  opts: { locale: Locale; port: number; appUrl: string | null },
): void {
  const t = TEXT[opts.locale][problem];
  const back = opts.appUrl
    ? `<p><a href="${escape(opts.appUrl)}">${opts.locale === 'ko' ? 'Dockside로 돌아가기' : 'Back to Dockside'}</a></p>`
    : '';
  const html = `<!doctype html>
<html lang="${opts.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(t.title)} — Dockside</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}h1{font-size:1.4rem}</style>
</head>
<body>
<main data-preview-problem="${problem}">
<h1>${escape(t.title)}</h1>
<p>${escape(t.body(opts.port))}</p>
<p>${escape(t.how)}</p>
${back}
</main>
</body>
</html>
`;
  res.writeHead(STATUS[problem], {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}
