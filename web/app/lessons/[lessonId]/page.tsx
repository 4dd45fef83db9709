import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { LessonPlayer } from '../../../components/player/LessonPlayer';
import { StepMarkdown, withoutTitle } from '../../../components/player/stepMarkdown';
import { playerLesson } from '../../../lib/catalog';
import { scriptNonce } from '../../../lib/nonce';
import { requestLocale } from '../../../lib/request-locale';

// Lessons are read from disk on each request: authors see their changes without a rebuild.
export const dynamic = 'force-dynamic';

type Props = { params: Promise<{ lessonId: string }>; searchParams: Promise<{ step?: string | string[] }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const [{ lessonId }, locale] = await Promise.all([params, requestLocale()]);
  const lesson = playerLesson(lessonId);
  return { title: lesson ? `${lesson.title[locale]} — Dockside` : 'Dockside' };
}

export default async function LessonPage({ params, searchParams }: Props) {
  const [{ lessonId }, { step }, locale, nonce] = await Promise.all([
    params,
    searchParams,
    requestLocale(),
    scriptNonce(),
  ]);
  const lesson = playerLesson(lessonId);
  if (!lesson) notFound();
  // Rendered here, on the server: the Markdown parser stays off the page's JavaScript.
  const stepTexts = lesson.steps.map((s) => (
    <StepMarkdown key={s.id} markdown={withoutTitle(s.body[locale])} locale={locale} />
  ));
  const socketCode = process.env.DOCKSIDE_BOOT_SOCKET_CODE;
  const terminalSrc = process.env.DOCKSIDE_BOOT_TERMINAL_SRC;
  return (
    <>
      {/* The socket, the sandbox and the first terminal, before the framework has run (web/boot/): the
          socket's code inline, first in the body, so it runs as the HTML is parsed. A module, async: a
          classic inline script would wait for the stylesheets above it. */}
      {socketCode && <script type="module" async nonce={nonce} dangerouslySetInnerHTML={{ __html: socketCode }} />}
      {terminalSrc && <script async src={terminalSrc} nonce={nonce} fetchPriority="high" />}
      <LessonPlayer
        lesson={lesson}
        stepTexts={stepTexts}
        locale={locale}
        initialStepId={typeof step === 'string' ? step : undefined}
      />
    </>
  );
}
