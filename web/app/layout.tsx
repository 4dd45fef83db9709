import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { requestLocale } from '../lib/request-locale';
import './globals.css';

export const metadata: Metadata = {
  title: 'Dockside',
  description: 'A hands-on container learning sandbox with a real Docker Engine per learner.',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const locale = await requestLocale();
  return (
    <html lang={locale}>
      <body>{children}</body>
    </html>
  );
}
