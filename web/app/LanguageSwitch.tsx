'use client';

import { useRouter } from 'next/navigation';
import type { Locale } from '@dockside/lessons';
import { rememberLocale } from '../lib/i18n';

const NAMES: Record<Locale, string> = { en: 'English', ko: '한국어' };

export function LanguageSwitch({ current, label }: { current: Locale; label: string }) {
  const router = useRouter();
  const choose = (locale: Locale) => {
    rememberLocale(locale);
    router.refresh();
  };
  return (
    <nav aria-label={label} className="lang-switch">
      {(Object.keys(NAMES) as Locale[]).map((locale) => (
        <button
          key={locale}
          type="button"
          lang={locale}
          aria-pressed={locale === current}
          onClick={() => choose(locale)}
        >
          {NAMES[locale]}
        </button>
      ))}
    </nav>
  );
}
