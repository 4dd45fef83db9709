'use client';
// The sandbox in the header: starting (with progress), ready, idle warning, time left, open ports, reset.
// A port's preview is another origin: its link first asks the app for a one-time capability (the preview
// has no other way to know this learner), then opens the preview with it in a new tab.
import { useEffect, useRef, useState } from 'react';
import { api } from '../../lib/api';
import type { Messages } from '../../lib/i18n';
import type { SandboxUi } from './sandboxState';

const clock = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

function useNow(enabled: boolean) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [enabled]);
  return now;
}

export function SandboxStatus({
  ui,
  idleWarning,
  m,
  onReset,
}: {
  ui: SandboxUi;
  idleWarning: string | null;
  m: Messages;
  onReset: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const now = useNow(ui.kind === 'ready');
  const left = ui.kind === 'ready' ? Date.parse(ui.sandbox.expiresAt) - now : 0;

  let label: string;
  if (ui.kind === 'ready') label = m.phase.ready;
  else if (ui.kind === 'starting') label = m.phase[ui.phase];
  else if (ui.kind === 'queued') label = m.phase.queued;
  else if (ui.kind === 'failed') label = m.phase.failed;
  else if (ui.kind === 'expired') label = m.phase.stopped;
  else label = m.phase.connecting;

  return (
    <div className="sandbox-status" data-state={ui.kind} aria-label={m.sandbox} role="group">
      <span className={`status-dot status-${ui.kind}`} aria-hidden="true" />
      <span className="status-label" role="status">
        {label}
      </span>
      {ui.kind === 'starting' && (
        <progress className="start-progress" max={100} value={ui.percent} aria-label={ui.message || label}>
          {ui.percent}%
        </progress>
      )}
      {ui.kind === 'ready' && left < 15 * 60_000 && (
        <span className="countdown" role="timer" aria-live="off">
          {m.expiresIn(clock(left))}
        </span>
      )}
      {idleWarning && <span className="idle-warning">{m.idleWarning(idleWarning)}</span>}
      {ui.kind === 'ready' && ui.sandbox.ports.length > 0 && (
        <span className="ports">
          {m.ports}:{' '}
          {[...ui.sandbox.ports]
            // In port order (the engine lists the newest container first), so a port stays where it was.
            .sort((a, b) => a.port - b.port || a.container.localeCompare(b.container))
            .map((p) => (
              <a
                key={`${p.container}:${p.port}`}
                href={p.url}
                target="_blank"
                rel="noreferrer"
                title={p.container}
                onClick={(e) => {
                  e.preventDefault();
                  setPreviewError(null);
                  void api<{ url: string }>('POST', `/api/sandboxes/${ui.sandbox.id}/previews/${p.port}`).then(
                    ({ url }) => window.open(url, '_blank', 'noopener,noreferrer'),
                    (err: unknown) => setPreviewError(m.previewFailed((err as Error).message)),
                  );
                }}
              >
                {m.portLink(p.port)}
              </a>
            ))}
        </span>
      )}
      {previewError && (
        <span className="idle-warning" role="alert">
          {previewError}
        </span>
      )}
      {ui.kind === 'ready' && (
        <button type="button" className="small-button" onClick={() => dialog.current?.showModal()}>
          {m.reset}
        </button>
      )}
      <dialog ref={dialog} className="confirm" aria-labelledby="reset-title">
        <p id="reset-title">{m.resetConfirm}</p>
        <form method="dialog" className="dialog-actions">
          <button type="submit" value="cancel" autoFocus>
            {m.cancel}
          </button>
          <button
            type="submit"
            value="reset"
            className="danger"
            onClick={() => {
              onReset();
            }}
          >
            {m.resetYes}
          </button>
        </form>
      </dialog>
    </div>
  );
}
