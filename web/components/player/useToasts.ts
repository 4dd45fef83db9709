'use client';
// Messages for the learner from the socket (an instructor's, or the server's): each shows for 15 s or
// until dismissed.
import { useCallback, useEffect, useState } from 'react';
import type { DocksideSocket } from '../../lib/socket';

export type Toast = { id: number; message: string; from?: string };

const SHOWN_MS = 15_000;

export function useToasts(socket: DocksideSocket | null) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((x) => x.id !== id)), []);

  useEffect(() => {
    if (!socket) return;
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const onToast = (msg: { message: string; from?: string }) => {
      const id = Date.now() + Math.random();
      setToasts((all) => [...all, { id, ...msg }]);
      const timer = setTimeout(() => {
        timers.delete(timer);
        dismiss(id);
      }, SHOWN_MS);
      timers.add(timer);
    };
    socket.on('toast', onToast);
    return () => {
      socket.off('toast', onToast);
      timers.forEach(clearTimeout);
    };
  }, [socket, dismiss]);

  return { toasts, dismiss };
}
