import { cookies, headers } from 'next/headers';
import type { Locale } from '@dockside/lessons';
import { LOCALE_COOKIE, pickLocale } from './i18n';

export async function requestLocale(): Promise<Locale> {
  const [c, h] = await Promise.all([cookies(), headers()]);
  return pickLocale(c.get(LOCALE_COOKIE)?.value, h.get('accept-language'));
}
