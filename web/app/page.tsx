import { catalog } from '../lib/catalog';
import { t } from '../lib/i18n';
import { requestLocale } from '../lib/request-locale';
import Link from 'next/link';
import { ContinueEntry, LessonCardProgress, ProgressProvider } from './HomeProgress';
import { LanguageSwitch } from './LanguageSwitch';

// Lessons are read from disk on each request: authors see their changes without a rebuild.
export const dynamic = 'force-dynamic';

export default async function Home() {
  const locale = await requestLocale();
  const m = t(locale);
  const lessons = catalog();
  return (
    <main className="home">
      <header className="home-header">
        <div>
          <h1>Dockside</h1>
          <p className="tagline">{m.tagline}</p>
        </div>
        <LanguageSwitch current={locale} label={m.language} />
      </header>
      <ProgressProvider>
        <ContinueEntry
          lessons={lessons.map((l) => ({
            id: l.id,
            title: l.title,
            steps: l.steps.map((s) => ({ id: s.id, title: s.title })),
          }))}
          locale={locale}
        />
        <section aria-labelledby="lessons-heading">
          <h2 id="lessons-heading">{m.lessons}</h2>
          {lessons.length === 0 ? (
            <p>{m.noLessons}</p>
          ) : (
            <ul className="lesson-list">
              {lessons.map((lesson) => (
                <li key={lesson.id} className="lesson-card" data-lesson-id={lesson.id}>
                  <h3>
                    <Link href={`/lessons/${lesson.id}`}>{lesson.title[locale]}</Link>
                  </h3>
                  <p>{lesson.summary[locale]}</p>
                  <p className="meta">
                    <span>{m.level[lesson.level]}</span> · <span>{m.minutes(lesson.minutes)}</span> ·{' '}
                    <span>{m.steps(lesson.steps.length)}</span>
                  </p>
                  <LessonCardProgress lessonId={lesson.id} total={lesson.steps.length} locale={locale} />
                </li>
              ))}
            </ul>
          )}
        </section>
      </ProgressProvider>
      <footer className="home-footer">
        <Link href="/catalogue">{m.catalogueLink}</Link> · <Link href="/join">{m.joinWorkshopLink}</Link> ·{' '}
        <Link href="/instructor">{m.instructorLink}</Link>
      </footer>
    </main>
  );
}
