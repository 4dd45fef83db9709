import Link from 'next/link';
import { t } from '../../lib/i18n';
import { requestLocale } from '../../lib/request-locale';
import { LanguageSwitch } from '../LanguageSwitch';
import { CatalogueList } from './CatalogueList';

// The language comes with each request (cookie, then Accept-Language), as on the other pages.
export const dynamic = 'force-dynamic';

export default async function CataloguePage() {
  const locale = await requestLocale();
  const m = t(locale);
  return (
    <main className="home catalogue">
      <header className="home-header">
        <div>
          <p className="breadcrumb">
            <Link href="/">Dockside — {m.home}</Link>
          </p>
          <h1>{m.catalogueTitle}</h1>
        </div>
        <LanguageSwitch current={locale} label={m.language} />
      </header>
      <p className="tagline">{m.catalogueIntro}</p>
      <CatalogueList locale={locale} />
    </main>
  );
}
