'use client';
// Two panes side by side with a draggable, keyboard-operable separator; the split is remembered.
import { useEffect, useRef, useState, type ReactNode } from 'react';

const KEY = 'dockside:split';
const clamp = (v: number) => Math.min(75, Math.max(20, v));

export function SplitPane({ left, right, label }: { left: ReactNode; right: ReactNode; label: string }) {
  const [percent, setPercent] = useState(40);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const saved = Number(localStorage.getItem(KEY));
    if (saved) setPercent(clamp(saved));
  }, []);
  useEffect(() => {
    localStorage.setItem(KEY, String(percent));
  }, [percent]);

  const drag = (e: React.PointerEvent<HTMLDivElement>) => {
    const el = box.current;
    if (!el) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    const rect = el.getBoundingClientRect();
    const move = (ev: PointerEvent) => setPercent(clamp(((ev.clientX - rect.left) / rect.width) * 100));
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };

  return (
    <div ref={box} className="split" style={{ gridTemplateColumns: `${percent}% 8px 1fr` }}>
      <div className="split-pane">{left}</div>
      <div
        className="split-handle"
        role="separator"
        aria-orientation="vertical"
        aria-label={label}
        aria-valuemin={20}
        aria-valuemax={75}
        aria-valuenow={Math.round(percent)}
        tabIndex={0}
        onPointerDown={drag}
        onKeyDown={(e) => {
          if (e.key === 'ArrowLeft') setPercent((p) => clamp(p - 5));
          else if (e.key === 'ArrowRight') setPercent((p) => clamp(p + 5));
          else return;
          e.preventDefault();
        }}
      />
      <div className="split-pane">{right}</div>
    </div>
  );
}
