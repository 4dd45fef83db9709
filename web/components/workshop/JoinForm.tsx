'use client';
// A learner joins a workshop: the code (from the link or typed) and a display name, no account.
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import type { Locale } from '@dockside/lessons';
import { DISPLAY_NAME_MAX } from '@dockside/protocol';
import { api } from '../../lib/api';
import { rememberLocale } from '../../lib/i18n';
import { workshopMessages } from './messages';
import styles from './workshop.module.css';

export function JoinForm({ code: initial, locale }: { code?: string; locale: Locale }) {
  const m = workshopMessages(locale);
  const router = useRouter();
  const [code, setCode] = useState(initial ?? '');
  const [name, setName] = useState('');
  const [title, setTitle] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!initial) return;
    void api<{ title: string }>('GET', `/api/join/${encodeURIComponent(initial)}`)
      .then((w) => setTitle(w.title))
      .catch((err: unknown) => setError((err as Error).message));
  }, [initial]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ lessonId: string; locale: Locale }>('POST', '/api/join', { code, displayName: name });
      // The workshop's language, unless this browser already chose one.
      rememberLocale(r.locale, { unlessChosen: true });
      router.push(`/lessons/${r.lessonId}`);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <main className={`home ${styles.narrow}`}>
      <h1>{title ? m.joinWorkshop(title) : m.joinTitle}</h1>
      <form className={styles.stackForm} onSubmit={(e) => void submit(e)}>
        <label>
          {m.joinCode}
          <input
            name="code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            required
            maxLength={20}
            autoComplete="off"
            aria-describedby="code-help"
            className={styles.codeInput}
          />
          <span id="code-help" className="muted small">
            {m.joinCodeHelp}
          </span>
        </label>
        <label>
          {m.displayName}
          <input
            name="displayName"
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            maxLength={DISPLAY_NAME_MAX}
            autoFocus={Boolean(initial)}
          />
        </label>
        {error && (
          <p className="banner banner-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? m.joining : m.join}
        </button>
      </form>
    </main>
  );
}
