'use client';
// An instructor's workshops, and the form for a new one.
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import type { Locale, Localized } from '@dockside/lessons';
import type { WorkshopView } from '@dockside/protocol';
import { api, ApiError } from '../../lib/api';
import { workshopMessages } from './messages';
import styles from './workshop.module.css';

type Me = { email: string; name: string; isAdmin: boolean };

const swap = <T,>(xs: T[], i: number, j: number): T[] => {
  const out = [...xs];
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
};

type CatalogLesson = { id: string; title: Localized; exercises: { id: string; title: Localized }[] };

export function WorkshopList({ locale, lessons }: { locale: Locale; lessons: CatalogLesson[] }) {
  const m = workshopMessages(locale);
  const router = useRouter();
  const [me, setMe] = useState<Me | null>(null);
  const [workshops, setWorkshops] = useState<WorkshopView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [invitation, setInvitation] = useState<string | null>(null);
  const [startsAt, setStartsAt] = useState('');
  const [form, setForm] = useState({
    title: '',
    lessonIds: lessons.slice(0, 1).map((l) => l.id),
    exercises: [] as { lessonId: string; exerciseId: string }[],
    seatLimit: 30,
    durationMinutes: 120,
    locale,
    keepSandboxes: false,
  });

  const load = useCallback(async () => {
    try {
      setMe(await api<Me>('GET', '/api/instructors/me'));
      setWorkshops((await api<{ workshops: WorkshopView[] }>('GET', '/api/workshops')).workshops);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) router.replace('/instructor');
      else setError((err as Error).message);
    }
  }, [router]);
  useEffect(() => void load(), [load]);

  const create = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      // The browser's local time, sent as an instant.
      const start = startsAt ? { startsAt: new Date(startsAt).toISOString() } : {};
      const w = await api<WorkshopView>('POST', '/api/workshops', { ...form, ...start });
      router.push(`/instructor/workshops/${w.id}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (!me) return <main className="home">{error ? <p role="alert">{m.error(error)}</p> : null}</main>;
  return (
    <main className="home">
      <header className="home-header">
        <h1>{m.workshops}</h1>
        <div className={styles.rowActions}>
          <span className="muted">{me.name || me.email}</span>
          {me.isAdmin && (
            <button
              type="button"
              className="small-button"
              onClick={() =>
                void api<{ code: string }>('POST', '/api/instructors/invitations').then((r) => setInvitation(r.code))
              }
            >
              {m.invite}
            </button>
          )}
          <button
            type="button"
            className="small-button"
            onClick={() => void api('POST', '/api/instructors/signout').then(() => router.replace('/instructor'))}
          >
            {m.signOut}
          </button>
        </div>
      </header>
      {invitation && (
        <p className="banner" role="status">
          {m.invitationCode(invitation)}
        </p>
      )}
      {workshops && workshops.length === 0 && <p>{m.noWorkshops}</p>}
      <ul className="lesson-list">
        {workshops?.map((w) => (
          <li key={w.id} className="lesson-card">
            <h2 className={styles.cardTitle}>
              <Link href={`/instructor/workshops/${w.id}`}>{w.title}</Link>
            </h2>
            <p className="meta">
              {m.state[w.state]} · {m.learnersCount(w.learners, w.seatLimit)} · <code>{w.joinCode}</code>
            </p>
          </li>
        ))}
      </ul>
      <section aria-labelledby="new-heading">
        <h2 id="new-heading">{m.newWorkshop}</h2>
        <form className={styles.stackForm} onSubmit={(e) => void create(e)}>
          <label>
            {m.title}
            <input
              name="title"
              required
              maxLength={120}
              value={form.title}
              onChange={(e) => setForm({ ...form, title: e.target.value })}
            />
          </label>
          <fieldset>
            <legend>{m.lessons}</legend>
            {lessons.map((l) => (
              <label key={l.id} className={styles.inline}>
                <input
                  type="checkbox"
                  checked={form.lessonIds.includes(l.id)}
                  onChange={(e) =>
                    setForm({
                      ...form,
                      lessonIds: e.target.checked
                        ? [...form.lessonIds, l.id]
                        : form.lessonIds.filter((x) => x !== l.id),
                    })
                  }
                />{' '}
                {l.title[locale]}
              </label>
            ))}
            {form.lessonIds.length > 1 && (
              <ol className={styles.lessonOrder} aria-label={m.lessonOrder}>
                {form.lessonIds.map((id, i) => {
                  const title = lessons.find((l) => l.id === id)?.title[locale] ?? id;
                  return (
                    <li key={id}>
                      {title}{' '}
                      <button
                        type="button"
                        className="small-button"
                        aria-label={m.moveUp(title)}
                        disabled={i === 0}
                        onClick={() => setForm({ ...form, lessonIds: swap(form.lessonIds, i, i - 1) })}
                      >
                        ↑
                      </button>{' '}
                      <button
                        type="button"
                        className="small-button"
                        aria-label={m.moveDown(title)}
                        disabled={i === form.lessonIds.length - 1}
                        onClick={() => setForm({ ...form, lessonIds: swap(form.lessonIds, i, i + 1) })}
                      >
                        ↓
                      </button>
                    </li>
                  );
                })}
              </ol>
            )}
          </fieldset>
          {lessons
            .filter((l) => l.exercises.length > 0)
            .map((l) => (
              // One group per lesson: its title names the group, not each box.
              <fieldset key={l.id}>
                <legend>{m.exercisesOf(l.title[locale])}</legend>
                {l.exercises.map((x) => {
                  const picked = form.exercises.some((e) => e.lessonId === l.id && e.exerciseId === x.id);
                  return (
                    <label key={x.id} className={styles.inline}>
                      <input
                        type="checkbox"
                        name={`exercise-${l.id}-${x.id}`}
                        checked={picked}
                        onChange={(e) =>
                          setForm({
                            ...form,
                            exercises: e.target.checked
                              ? [...form.exercises, { lessonId: l.id, exerciseId: x.id }]
                              : form.exercises.filter((y) => !(y.lessonId === l.id && y.exerciseId === x.id)),
                          })
                        }
                      />{' '}
                      {x.title[locale]}
                    </label>
                  );
                })}
              </fieldset>
            ))}
          <div className={styles.formRow}>
            <label>
              {m.seats}
              <input
                type="number"
                name="seats"
                min={1}
                max={200}
                value={form.seatLimit}
                onChange={(e) => setForm({ ...form, seatLimit: Number(e.target.value) })}
              />
            </label>
            <label>
              {m.duration}
              <input
                type="number"
                name="duration"
                min={5}
                max={1440}
                value={form.durationMinutes}
                onChange={(e) => setForm({ ...form, durationMinutes: Number(e.target.value) })}
              />
            </label>
            <label>
              {m.language}
              <select value={form.locale} onChange={(e) => setForm({ ...form, locale: e.target.value as Locale })}>
                <option value="en">English</option>
                <option value="ko">한국어</option>
              </select>
            </label>
          </div>
          <label>
            {m.startsAt}
            <input
              type="datetime-local"
              name="startsAt"
              value={startsAt}
              onChange={(e) => setStartsAt(e.target.value)}
              aria-describedby="starts-help"
            />
            <span id="starts-help" className="muted small">
              {m.startsAtHelp}
            </span>
          </label>
          <label className={styles.inline}>
            <input
              type="checkbox"
              checked={form.keepSandboxes}
              onChange={(e) => setForm({ ...form, keepSandboxes: e.target.checked })}
            />{' '}
            {m.keepSandboxes}
          </label>
          {error && (
            <p className="banner banner-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="primary">
            {m.create}
          </button>
        </form>
      </section>
    </main>
  );
}
