// UI strings in every supported language, and how a request picks one.
import type { Locale } from '@dockside/lessons';

export const LOCALE_COOKIE = 'dockside_lang';

const messages = {
  en: {
    tagline: 'Learn containers by doing: a real Docker Engine of your own, right in the browser.',
    lessons: 'Lessons',
    minutes: (n: number) => `${n} min`,
    steps: (n: number) => (n === 1 ? '1 step' : `${n} steps`),
    level: { beginner: 'Beginner', intermediate: 'Intermediate', advanced: 'Advanced' },
    language: 'Language',
    start: 'Start',
    noLessons: 'No lessons are installed yet.',
  },
  ko: {
    tagline: '직접 해 보며 배우는 컨테이너: 브라우저 안에서 나만의 실제 Docker Engine을 사용합니다.',
    lessons: '레슨',
    minutes: (n: number) => `${n}분`,
    steps: (n: number) => `${n}단계`,
    level: { beginner: '입문', intermediate: '중급', advanced: '고급' },
    language: '언어',
    start: '시작하기',
    noLessons: '설치된 레슨이 아직 없습니다.',
  },
} as const;

export type Messages = (typeof messages)[Locale];

export function t(locale: Locale): Messages {
  return messages[locale];
}

/** The cookie's choice if any, else the best match in Accept-Language, else English. */
export function pickLocale(cookie: string | undefined, acceptLanguage: string | null): Locale {
  if (cookie === 'en' || cookie === 'ko') return cookie;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^q=([\d.]+)$/.exec(p.trim())?.[1]).find(Boolean);
      return { tag: (tag ?? '').toLowerCase(), q: q ? Number(q) : 1 };
    })
    .filter((x) => x.tag)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    if (tag.startsWith('ko')) return 'ko';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}
