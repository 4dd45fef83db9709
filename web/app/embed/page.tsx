import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import type { Locale } from '@dockside/lessons';
import { playerExercise, playerLesson } from '../../lib/catalog';
import { requestLocale } from '../../lib/request-locale';
import { EmbedSandbox } from './EmbedSandbox';
import './embed.css';

// The embeddable sandbox (docs/embedding.md). The server checked the address before this page renders
// (server/src/http/embedTarget.ts) and answered a bad one with a 400 page; this reads what it let through.
export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Dockside' };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function EmbedPage({ searchParams }: Props) {
  const q = await searchParams;
  const one = (name: string) => (typeof q[name] === 'string' ? q[name] : undefined);
  const lang = one('lang');
  const locale: Locale = lang === 'en' || lang === 'ko' ? lang : await requestLocale();
  const lessonId = one('lesson');
  const lesson = lessonId ? playerLesson(lessonId) : undefined;
  if (lessonId && !lesson) notFound();
  const exerciseId = one('exercise');
  const exercise = lessonId && exerciseId ? playerExercise(lessonId, exerciseId)?.exercise : undefined;
  if (exerciseId && !exercise) notFound();
  const images = (one('images') ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  // "Open in Dockside" goes to the same place on the site.
  const tryQuery = new URLSearchParams(
    Object.entries(q).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'lang'),
  );
  return (
    <EmbedSandbox
      locale={locale}
      lesson={lesson}
      stepId={one('step')}
      exercise={exercise}
      images={images}
      editor={one('editor') === '1'}
      tryHref={`/try?${tryQuery}`}
    />
  );
}
