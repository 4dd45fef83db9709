'use client';
// Seconds left of a time budget that started at `startedAt`, ticking once a second; null without one.
import { useEffect, useState } from 'react';

export function useCountdown(startedAt: number | null, minutes: number | undefined): number | null {
  const [now, setNow] = useState(() => Date.now());
  const running = startedAt !== null && minutes !== undefined;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  if (!running) return null;
  return Math.max(0, Math.round((startedAt + minutes * 60_000 - now) / 1000));
}

/** `m:ss`, or `h:mm:ss` past an hour. */
export function clock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
