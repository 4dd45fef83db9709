'use client';
// Instructor sign-in and sign-up (the first account becomes the admin and needs the set-up code from the
// server's log, which its link there carries as ?setup=; later ones need an invitation).
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import type { Locale } from '@dockside/lessons';
import { api } from '../../lib/api';
import { workshopMessages } from './messages';
import styles from './workshop.module.css';

export function InstructorAuth({ locale }: { locale: Locale }) {
  const m = workshopMessages(locale);
  const router = useRouter();
  const [mode, setMode] = useState<'signin' | 'signup'>('signin');
  const [form, setForm] = useState({ email: '', name: '', password: '', invitation: '', setupCode: '' });
  const [firstAccount, setFirstAccount] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void api('GET', '/api/instructors/me')
      .then(() => router.replace('/instructor/workshops'))
      .catch(() => undefined);
    void api<{ firstAccount: boolean }>('GET', '/api/instructors/setup').then(
      (s) => setFirstAccount(s.firstAccount),
      () => undefined,
    );
    // The link the server printed: straight to creating the first account, its code filled in.
    const code = new URLSearchParams(window.location.search).get('setup');
    if (code) {
      setForm((f) => ({ ...f, setupCode: code }));
      setMode('signup');
    }
  }, [router]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      if (mode === 'signin')
        await api('POST', '/api/instructors/signin', { email: form.email, password: form.password });
      else
        await api('POST', '/api/instructors/signup', {
          email: form.email,
          name: form.name,
          password: form.password,
          ...(!firstAccount && form.invitation ? { invitation: form.invitation.trim() } : {}),
          ...(firstAccount ? { setupCode: form.setupCode.trim() } : {}),
        });
      router.push('/instructor/workshops');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setForm((f) => ({ ...f, [key]: e.target.value })),
  });

  return (
    <main className={`home ${styles.narrow}`}>
      <h1>
        {m.instructor}: {mode === 'signin' ? m.signIn : m.signUp}
      </h1>
      <form className={styles.stackForm} onSubmit={(e) => void submit(e)}>
        <label>
          {m.email}
          <input type="email" name="email" required autoComplete="username" {...field('email')} />
        </label>
        {mode === 'signup' && (
          <label>
            {m.name}
            <input name="name" maxLength={80} autoComplete="name" {...field('name')} />
          </label>
        )}
        <label>
          {m.password}
          <input
            type="password"
            name="password"
            required
            autoComplete={mode === 'signin' ? 'current-password' : 'new-password'}
            aria-describedby="password-help"
            {...field('password')}
          />
          {mode === 'signup' && (
            <span id="password-help" className="muted small">
              {m.passwordHelp}
            </span>
          )}
        </label>
        {mode === 'signup' && firstAccount && (
          <label>
            {m.setupCode}
            <input name="setupCode" required autoComplete="off" aria-describedby="setup-help" {...field('setupCode')} />
            <span id="setup-help" className="muted small">
              {m.setupHelp}
            </span>
          </label>
        )}
        {mode === 'signup' && !firstAccount && (
          <label>
            {m.invitation}
            <input name="invitation" autoComplete="off" {...field('invitation')} />
          </label>
        )}
        {error && (
          <p className="banner banner-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary">
          {mode === 'signin' ? m.signIn : m.signUp}
        </button>
        <button type="button" className="link-button" onClick={() => setMode(mode === 'signin' ? 'signup' : 'signin')}>
          {mode === 'signin' ? m.needAccount : m.haveAccount}
        </button>
      </form>
    </main>
  );
}
