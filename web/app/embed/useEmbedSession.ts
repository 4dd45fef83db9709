'use client';
// Whether this page has the learner's session, and the way to get it when framed by another site: the
// browser sends no SameSite=Lax cookie into a third-party frame, so a first-party window (/embed/connect,
// opened by the learner's click) hands a one-use token to this frame, which the server exchanges for the
// embed's own partitioned cookie with the same learner id (server/src/http/embedSession.ts).
import { useCallback, useEffect, useState } from 'react';
import type { EmbedMessages } from './messages';

export type EmbedSession =
  { state: 'checking' } | { state: 'linked' } | { state: 'unlinked'; problem?: string } | { state: 'connecting' };

const linked = async (): Promise<boolean> => {
  const r = await fetch('/api/embed/session', { credentials: 'same-origin', cache: 'no-store' });
  return r.ok && ((await r.json()) as { linked?: boolean }).linked === true;
};

/** The token the connect window posts to this window (only a window of Dockside's origin is sent one). */
function tokenFrom(popup: Window): Promise<string | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (token: string | null) => {
      if (done) return;
      done = true;
      window.removeEventListener('message', onMessage);
      clearInterval(watch);
      resolve(token);
    };
    const onMessage = (e: MessageEvent) => {
      if (e.origin !== window.location.origin || e.source !== popup) return;
      const data = e.data as { type?: unknown; token?: unknown } | null;
      if (data?.type === 'dockside:session' && typeof data.token === 'string') finish(data.token);
    };
    window.addEventListener('message', onMessage);
    // Closed without a token (by the learner): give a message already on its way a moment to arrive.
    const watch = setInterval(() => {
      if (popup.closed) setTimeout(() => finish(null), 1000);
    }, 300);
  });
}

export function useEmbedSession(lang: string, em: EmbedMessages) {
  const [session, setSession] = useState<EmbedSession>({ state: 'checking' });

  useEffect(() => {
    let current = true;
    linked()
      .then((yes) => current && setSession(yes ? { state: 'linked' } : { state: 'unlinked' }))
      .catch(() => current && setSession({ state: 'unlinked' }));
    return () => {
      current = false;
    };
  }, []);

  const connect = useCallback(async () => {
    const popup = window.open(`/embed/connect?lang=${lang}`, 'dockside-connect', 'popup,width=520,height=320');
    if (!popup) return setSession({ state: 'unlinked', problem: em.popupBlocked });
    setSession({ state: 'connecting' });
    const token = await tokenFrom(popup);
    if (!token) return setSession({ state: 'unlinked', problem: em.closed });
    const r = await fetch('/api/embed/session', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    }).catch(() => null);
    if (!r?.ok) {
      const why = ((await r?.json().catch(() => null)) as { error?: { message?: string } } | null)?.error?.message;
      return setSession({ state: 'unlinked', problem: em.refused(why ?? 'the server cannot be reached') });
    }
    // The cookie is set; a browser that keeps none for embedded pages sends nothing back.
    setSession(
      (await linked().catch(() => false)) ? { state: 'linked' } : { state: 'unlinked', problem: em.noCookies },
    );
  }, [lang, em]);

  return { session, connect };
}
