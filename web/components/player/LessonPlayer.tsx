'use client';
// The lesson page: step text and checks on the left, terminals / editor / layers on the right, the
// sandbox's state in the header. It owns the page's socket for its lifetime.
import dynamic from 'next/dynamic';
import Link from 'next/link';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Locale, Localized } from '@dockside/lessons';
import { api, ApiError } from '../../lib/api';
import { limitMessage, t } from '../../lib/i18n';
import {
  isStepDone,
  openSocket,
  type CheckResultView,
  type DocksideSocket,
  type SandboxView,
  type ServerToClientEvents,
  type StepStatus,
} from '../../lib/socket';
import { LanguageSwitch } from '../../app/LanguageSwitch';
import { CheckList } from './CheckList';
import { SandboxStatus, type SandboxUi } from './SandboxStatus';
import { SplitPane } from './SplitPane';
import { parseLayersLink } from '../layers/format';
import { StepView, withoutTitle } from './StepView';
import type { PlayerLesson } from './types';

const TerminalPane = dynamic(() => import('./TerminalPane'), { ssr: false });
const EditorPane = dynamic(() => import('./EditorPane'), { ssr: false });
const LayersPanel = dynamic(() => import('../layers/LayersPanel'), { ssr: false });

type Toast = { id: number; message: string; from?: string };
type Tab = string; // `term:<key>` | 'editor' | 'layers'
type TermSlot = { key: string; id?: string };

const termsKey = (sandboxId: string) => `dockside:terminals:${sandboxId}`;

export function LessonPlayer({
  lesson,
  locale,
  initialStepId,
}: {
  lesson: PlayerLesson;
  locale: Locale;
  initialStepId?: string;
}) {
  const m = t(locale);
  const [socket, setSocket] = useState<DocksideSocket | null>(null);
  const [online, setOnline] = useState(true);
  const [ui, setUi] = useState<SandboxUi>({ kind: 'connecting' });
  const [idleWarning, setIdleWarning] = useState<string | null>(null);
  const [stepIndex, setStepIndex] = useState(() =>
    Math.max(
      0,
      lesson.steps.findIndex((s) => s.id === initialStepId),
    ),
  );
  const [statuses, setStatuses] = useState<Record<string, StepStatus>>({});
  const [results, setResults] = useState<Record<string, CheckResultView[]>>({});
  // Results per step since it was opened: the first comes from opening it, before the learner tried
  // anything, and shows what is not done yet as pending rather than a red "not yet".
  const [resultsSinceOpen, setResultsSinceOpen] = useState<Record<string, number>>({});
  const [hints, setHints] = useState<Record<string, Localized[]>>({});
  const [solutions, setSolutions] = useState<Record<string, Localized>>({});
  const [terms, setTerms] = useState<TermSlot[]>([]);
  const [tab, setTab] = useState<Tab>('term:1');
  const [toasts, setToasts] = useState<Toast[]>([]);
  // The Layers view loads the first time its tab opens, then stays (hidden) and follows the engine.
  const [layersOpened, setLayersOpened] = useState(false);
  useEffect(() => {
    if (tab === 'layers') setLayersOpened(true);
  }, [tab]);
  const [layersFocus, setLayersFocus] = useState<{ image?: string; layer?: number } | null>(null);
  const stepHeading = useRef<HTMLHeadingElement>(null);
  const lessonPane = useRef<HTMLDivElement>(null);
  // The step the server remembers is taken once, on arrival; after that the learner's own choice stands
  // (a language switch refreshes the page's props and must not move them back).
  const stepSettled = useRef(Boolean(initialStepId));
  const termCounter = useRef(1);
  const step = lesson.steps[stepIndex]!;
  const sandboxId = ui.kind === 'ready' ? ui.sandbox.id : null;
  const subscribeLayers = useCallback(
    (onChange: () => void) => {
      if (!socket) return () => undefined;
      const listener = (c: { sandboxId: string }) => {
        if (c.sandboxId === sandboxId) onChange();
      };
      socket.on('layers:changed', listener);
      return () => void socket.off('layers:changed', listener);
    },
    [socket, sandboxId],
  );

  // The socket lives as long as the page.
  useEffect(() => {
    const s = openSocket();
    setSocket(s);
    return () => {
      s.disconnect();
    };
  }, []);

  // The page's language for messages made in callbacks that outlive a render.
  const messages = useRef(m);
  messages.current = m;

  const ensure = useCallback(() => {
    if (!socket) return;
    socket.emit('sandbox:ensure', { lessonId: lesson.id }, (r) => {
      if (r.ok) {
        setUi(r.value.phase === 'ready' ? { kind: 'ready', sandbox: r.value } : { kind: 'connecting' });
        return;
      }
      if (r.error.code === 'queued')
        setUi((u) => (u.kind === 'queued' ? u : { kind: 'queued', position: 0, estimateSeconds: 0 }));
      else
        setUi({
          kind: 'failed',
          message: limitMessage(messages.current, r.error.code, r.error.retryAfter) ?? r.error.message,
        });
    });
  }, [socket, lesson.id]);

  const localeRef = useRef(locale);
  localeRef.current = locale;
  useEffect(() => {
    if (!socket) return;
    const on: Partial<{ [E in keyof ServerToClientEvents]: ServerToClientEvents[E] }> & {
      connect: () => void;
      disconnect: () => void;
    } = {
      connect: () => {
        setOnline(true);
        ensure();
      },
      disconnect: () => setOnline(false),
      'sandbox:progress': (p) => {
        if (p.phase === 'allocating' || p.phase === 'starting-engine')
          setUi({ kind: 'starting', phase: p.phase, percent: p.percent, message: p.message });
      },
      'sandbox:queue': (q) => setUi({ kind: 'queued', position: q.position, estimateSeconds: q.estimateSeconds }),
      'sandbox:state': (s) => {
        if (s.phase !== 'ready') return;
        setUi((u) => {
          // A queued learner got a seat: ask again so the lesson's files are put in place.
          if (u.kind !== 'ready') setTimeout(ensure, 0);
          return { kind: 'ready', sandbox: s };
        });
      },
      'sandbox:warning': (w) => {
        if (w.reason === 'idle')
          setIdleWarning(new Date(w.at).toLocaleTimeString(localeRef.current, { hour: '2-digit', minute: '2-digit' }));
      },
      'sandbox:error': (e) => {
        if (e.code.startsWith('ended_')) setUi({ kind: 'expired', message: e.message });
        else if (e.code === 'sandbox_failed' || e.code === 'start_failed')
          setUi({ kind: 'failed', message: e.message });
      },
      'checks:result': (r) => {
        if (r.lessonId !== lesson.id) return;
        setResults((all) => ({ ...all, [r.stepId]: r.results }));
        setResultsSinceOpen((all) => ({ ...all, [r.stepId]: (all[r.stepId] ?? 0) + 1 }));
        setStatuses((all) => ({ ...all, [r.stepId]: r.stepStatus }));
      },
      toast: (msg) => {
        const id = Date.now() + Math.random();
        setToasts((all) => [...all, { id, ...msg }]);
        setTimeout(() => setToasts((all) => all.filter((x) => x.id !== id)), 15_000);
      },
    };
    const entries = Object.entries(on) as [keyof ServerToClientEvents, (...args: never[]) => void][];
    for (const [event, fn] of entries) socket.on(event, fn as never);
    if (socket.connected) on.connect();
    return () => {
      for (const [event, fn] of entries) socket.off(event, fn as never);
    };
  }, [socket, ensure, lesson.id]);

  // Progress so far, kept on the server.
  useEffect(() => {
    void api<{ steps: Record<string, { status: StepStatus }>; currentStepId: string }>(
      'GET',
      `/api/progress/${lesson.id}`,
    )
      .then((p) => {
        setStatuses((s) => ({ ...Object.fromEntries(Object.entries(p.steps).map(([k, v]) => [k, v.status])), ...s }));
        if (stepSettled.current) return;
        stepSettled.current = true;
        setStepIndex(
          Math.max(
            0,
            lesson.steps.findIndex((s) => s.id === p.currentStepId),
          ),
        );
      })
      .catch(() => undefined);
  }, [lesson, initialStepId]);

  // The step in the address bar (a reload comes back to it) and its checks running on the server.
  useEffect(() => {
    setResultsSinceOpen((all) => ({ ...all, [step.id]: 0 }));
  }, [step.id]);
  useEffect(() => {
    const url = new URL(window.location.href);
    url.searchParams.set('step', step.id);
    // Without Next's own state, so its router takes the URL over: a refresh (the language switch) keeps it.
    window.history.replaceState(null, '', url);
  }, [step.id]);
  useEffect(() => {
    if (socket && sandboxId && online) socket.emit('lesson:focus', { lessonId: lesson.id, stepId: step.id });
  }, [socket, sandboxId, online, lesson.id, step.id]);

  // Terminals of this sandbox, remembered so a reload re-attaches to them.
  useEffect(() => {
    if (!sandboxId) return;
    let ids: string[] = [];
    try {
      ids = JSON.parse(localStorage.getItem(termsKey(sandboxId)) ?? '[]') as string[];
    } catch {
      ids = [];
    }
    const slots = (ids.length ? ids : [undefined]).map((id, i) => ({ key: String(i + 1), id }));
    termCounter.current = slots.length;
    setTerms(slots);
    setTab((current) => (current.startsWith('term:') ? 'term:1' : current));
  }, [sandboxId]);
  const rememberTerms = (slots: TermSlot[]) => {
    if (sandboxId) localStorage.setItem(termsKey(sandboxId), JSON.stringify(slots.map((s) => s.id).filter(Boolean)));
  };

  const activeTerminal = terms.find((s) => `term:${s.key}` === tab) ?? terms[0];
  const runCommand = (command: string) => {
    if (!socket || !activeTerminal?.id) return;
    setTab(`term:${activeTerminal.key}`);
    socket.emit('terminal:input', { terminalId: activeTerminal.id, data: command.replace(/\n/g, '\r') + '\r' });
    requestAnimationFrame(() =>
      document.querySelector<HTMLTextAreaElement>(`#panel-term-${activeTerminal.key} textarea`)?.focus(),
    );
  };

  const go = (index: number) => {
    stepSettled.current = true;
    setStepIndex(Math.min(lesson.steps.length - 1, Math.max(0, index)));
    // A new step starts at its top, as a new page would.
    lessonPane.current?.scrollTo({ top: 0 });
    requestAnimationFrame(() => stepHeading.current?.focus({ preventScroll: true }));
  };

  const reset = async () => {
    const old = sandboxId;
    setUi({ kind: 'starting', phase: 'allocating', percent: 0, message: '' });
    try {
      const { sandbox } = await api<{ sandbox: SandboxView }>('POST', '/api/sandboxes/current/reset');
      if (old) localStorage.removeItem(termsKey(old));
      setUi({ kind: 'ready', sandbox });
      ensure();
    } catch (err) {
      const limit =
        err instanceof ApiError
          ? limitMessage(m, err.code, (err.body as { retryAfter?: unknown } | undefined)?.retryAfter)
          : null;
      setUi({ kind: 'failed', message: limit ?? (err as Error).message });
    }
  };

  const showHint = async () => {
    const have = hints[step.id]?.length ?? 0;
    const r = await api<{ hint: Localized }>('POST', `/api/progress/${lesson.id}/${step.id}/hint`, { index: have });
    setHints((h) => ({ ...h, [step.id]: [...(h[step.id] ?? []), r.hint] }));
  };
  const showSolution = async () => {
    const r = await api<{ solution: Localized; status: StepStatus }>(
      'POST',
      `/api/progress/${lesson.id}/${step.id}/solution`,
    );
    setSolutions((s) => ({ ...s, [step.id]: r.solution }));
    setStatuses((s) => ({ ...s, [step.id]: r.status }));
  };
  const skip = async () => {
    const r = await api<{ status: StepStatus }>('POST', `/api/progress/${lesson.id}/${step.id}/skip`);
    setStatuses((s) => ({ ...s, [step.id]: r.status }));
    go(stepIndex + 1);
  };

  const doneCount = lesson.steps.filter((s) => isStepDone(statuses[s.id])).length;
  const stepStatus = statuses[step.id] ?? 'pending';
  const isLast = stepIndex === lesson.steps.length - 1;
  const tabs = useMemo(
    () => [
      ...terms.map((s, i) => ({ id: `term:${s.key}`, label: m.terminal(i + 1) })),
      { id: 'editor', label: m.editor },
      { id: 'layers', label: m.layers },
    ],
    [terms, m],
  );

  const onTabKey = (e: React.KeyboardEvent) => {
    const i = tabs.findIndex((x) => x.id === tab);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabs.length - 1;
    if (next < 0) return;
    e.preventDefault();
    setTab(tabs[next]!.id);
    document.getElementById(`tab-${tabs[next]!.id.replace(':', '-')}`)?.focus();
  };

  const left = (
    <div className="lesson-pane" ref={lessonPane}>
      <div className="lesson-progress">
        <span>{m.stepOf(stepIndex + 1, lesson.steps.length)}</span>
        <progress max={lesson.steps.length} value={doneCount} aria-label={m.lessonProgress}>
          {doneCount}/{lesson.steps.length}
        </progress>
        <span className="muted small">{m.progress(doneCount, lesson.steps.length)}</span>
      </div>
      <details className="step-list">
        <summary>{m.stepList}</summary>
        <ol>
          {lesson.steps.map((s, i) => {
            const st = statuses[s.id] ?? 'pending';
            return (
              <li key={s.id} data-status={st}>
                <button type="button" aria-current={i === stepIndex ? 'step' : undefined} onClick={() => go(i)}>
                  <span className="step-mark" aria-hidden="true">
                    {isStepDone(st) ? '✓' : i === stepIndex ? '▸' : '○'}
                  </span>
                  {s.title[locale]}
                  <span className="visually-hidden"> — {m.status[st]}</span>
                </button>
              </li>
            );
          })}
        </ol>
      </details>
      <article className="step" aria-labelledby="step-title" data-step-id={step.id} data-status={stepStatus}>
        <h2 id="step-title" ref={stepHeading} tabIndex={-1}>
          {step.title[locale]}
          {isStepDone(stepStatus) && <span className="step-badge"> ✓ {m.status[stepStatus]}</span>}
        </h2>
        <StepView
          markdown={withoutTitle(step.body[locale])}
          m={m}
          onRun={sandboxId && activeTerminal?.id ? runCommand : undefined}
          onLayersLink={(hash) => {
            setLayersFocus(parseLayersLink(hash));
            setTab('layers');
          }}
        />
        <CheckList
          checks={step.checks}
          results={
            (resultsSinceOpen[step.id] ?? 0) > 1
              ? results[step.id]
              : results[step.id]?.map((r) => (r.status === 'failed' ? { id: r.id, status: 'pending' as const } : r))
          }
          locale={locale}
          m={m}
        />
        {stepStatus === 'passed' && (
          <p className="step-done" role="status">
            {m.stepDone}
          </p>
        )}
        <div className="step-help">
          {(hints[step.id] ?? []).map((h, i) => (
            <aside key={i} className="callout callout-tip" role="note">
              {h[locale]}
            </aside>
          ))}
          {step.hintCount > (hints[step.id]?.length ?? 0) && (
            <button type="button" className="small-button" onClick={() => void showHint()}>
              {m.hint}
            </button>
          )}
          {step.hasSolution && !solutions[step.id] && (
            <button type="button" className="small-button" onClick={() => void showSolution()}>
              {m.solution}
            </button>
          )}
          {!isStepDone(stepStatus) && !isLast && (
            <button type="button" className="small-button" onClick={() => void skip()}>
              {m.skip}
            </button>
          )}
          {solutions[step.id] && (
            <StepView markdown={solutions[step.id]![locale]} m={m} onRun={sandboxId ? runCommand : undefined} />
          )}
        </div>
      </article>
      <nav className="step-nav" aria-label={m.stepList}>
        <button type="button" onClick={() => go(stepIndex - 1)} disabled={stepIndex === 0}>
          ← {m.previous}
        </button>
        {isLast ? (
          <Link className="button primary" href={`/lessons/${lesson.id}/finish`}>
            {m.finish}
          </Link>
        ) : (
          <button
            type="button"
            className={isStepDone(stepStatus) ? 'primary' : undefined}
            onClick={() => go(stepIndex + 1)}
          >
            {m.next} →
          </button>
        )}
      </nav>
    </div>
  );

  const right = (
    <div className="workspace" aria-label={m.workspace} role="region">
      <div className="tabs-row">
        <div role="tablist" aria-label={m.workspace} className="tabs" onKeyDown={onTabKey}>
          {tabs.map((x) => (
            <button
              key={x.id}
              id={`tab-${x.id.replace(':', '-')}`}
              role="tab"
              type="button"
              aria-selected={tab === x.id}
              aria-controls={`panel-${x.id.replace(':', '-')}`}
              tabIndex={tab === x.id ? 0 : -1}
              onClick={() => setTab(x.id)}
            >
              {x.label}
            </button>
          ))}
        </div>
        {sandboxId && (
          <button
            type="button"
            className="small-button"
            aria-label={m.newTerminal}
            title={m.newTerminal}
            onClick={() => {
              termCounter.current += 1;
              const key = String(termCounter.current);
              setTerms((all) => [...all, { key }]);
              setTab(`term:${key}`);
            }}
          >
            +
          </button>
        )}
        {terms.length > 1 && tab.startsWith('term:') && (
          <button
            type="button"
            className="small-button"
            aria-label={m.closeTerminal(terms.findIndex((s) => `term:${s.key}` === tab) + 1)}
            onClick={() => {
              const slot = terms.find((s) => `term:${s.key}` === tab);
              if (slot?.id) socket?.emit('terminal:close', { terminalId: slot.id });
              const rest = terms.filter((s) => s !== slot);
              setTerms(rest);
              rememberTerms(rest);
              setTab(`term:${rest[0]!.key}`);
            }}
          >
            ×
          </button>
        )}
      </div>
      {!online && (
        <div className="banner banner-warn" role="alert">
          {m.offline}
        </div>
      )}
      <div className="tab-panels">
        {ui.kind !== 'ready' && <SandboxMessage ui={ui} m={m} onRetry={ensure} />}
        {socket &&
          sandboxId &&
          terms.map((slot, i) => (
            <div
              key={`${sandboxId}:${slot.key}`}
              id={`panel-term-${slot.key}`}
              role="tabpanel"
              aria-labelledby={`tab-term-${slot.key}`}
              className="tab-panel"
              hidden={tab !== `term:${slot.key}`}
            >
              <TerminalPane
                socket={socket}
                sandboxId={sandboxId}
                terminalId={slot.id}
                label={m.terminalLabel(i + 1)}
                exitedText={m.terminalExited}
                locale={locale}
                active={tab === `term:${slot.key}`}
                onOpened={(id) =>
                  setTerms((all) => {
                    const next = all.map((s) => (s.key === slot.key ? { ...s, id } : s));
                    rememberTerms(next);
                    return next;
                  })
                }
                onError={(message) => setUi({ kind: 'failed', message })}
                onLeave={() => stepHeading.current?.focus()}
              />
            </div>
          ))}
        <div
          id="panel-editor"
          role="tabpanel"
          aria-labelledby="tab-editor"
          className="tab-panel"
          hidden={tab !== 'editor'}
        >
          {sandboxId && <EditorPane key={sandboxId} sandboxId={sandboxId} m={m} active={tab === 'editor'} />}
        </div>
        <div
          id="panel-layers"
          role="tabpanel"
          aria-labelledby="tab-layers"
          className="tab-panel"
          hidden={tab !== 'layers'}
        >
          {socket && sandboxId && layersOpened && (
            <LayersPanel
              key={sandboxId}
              apiBase={`/api/sandboxes/${sandboxId}`}
              locale={locale}
              subscribe={subscribeLayers}
              focus={layersFocus}
            />
          )}
        </div>
      </div>
    </div>
  );

  return (
    <div className="player" onKeyDown={() => idleWarning && setIdleWarning(null)}>
      <header className="player-header">
        <Link href="/" className="brand" aria-label={`Dockside — ${m.home}`}>
          Dockside
        </Link>
        <h1 className="lesson-title">{lesson.title[locale]}</h1>
        <SandboxStatus ui={ui} idleWarning={idleWarning} m={m} onReset={() => void reset()} />
        <LanguageSwitch current={locale} label={m.language} />
      </header>
      <SplitPane left={left} right={right} label={m.resize} />
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((x) => (
          <div key={x.id} className="toast">
            {x.from && <strong>{m.toastFrom(x.from)}: </strong>}
            <span>{x.message}</span>
            <button
              type="button"
              className="small-button"
              onClick={() => setToasts((all) => all.filter((y) => y.id !== x.id))}
            >
              {m.dismiss}
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}

function SandboxMessage({ ui, m, onRetry }: { ui: SandboxUi; m: ReturnType<typeof t>; onRetry: () => void }) {
  if (ui.kind === 'failed')
    return (
      <div className="banner banner-error" role="alert">
        <p>{m.startFailed(ui.message)}</p>
        <button type="button" className="primary" onClick={onRetry}>
          {m.retry}
        </button>
      </div>
    );
  if (ui.kind === 'expired')
    return (
      <div className="banner banner-warn" role="alert">
        <p>{m.expired}</p>
        <button type="button" className="primary" onClick={onRetry}>
          {m.startAgain}
        </button>
      </div>
    );
  if (ui.kind === 'queued')
    return (
      <div className="banner" role="status">
        {m.queued(ui.position, ui.estimateSeconds)}
      </div>
    );
  const percent = ui.kind === 'starting' ? ui.percent : 0;
  const label = ui.kind === 'starting' ? m.phase[ui.phase] : m.phase.connecting;
  return (
    <div className="banner" role="status">
      <p>{label}</p>
      <progress max={100} value={percent} aria-label={label} />
    </div>
  );
}
