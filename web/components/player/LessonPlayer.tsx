'use client';
// The lesson page: step text and checks on the left, terminals / editor / layers on the right, the
// sandbox's state in the header. Its parts each own a concern: `useSandbox` the page's socket and the
// sandbox on it, `useStepProgress` the steps, `useTerminalSlots` the terminal tabs, `WorkspaceTabs` the tabs.
import dynamic from 'next/dynamic';
import Link from 'next/link';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Locale } from '@dockside/lessons';
import { t } from '../../lib/i18n';
import { isStepDone } from '../../lib/socket';
import { LanguageSwitch } from '../../app/LanguageSwitch';
import { CheckList } from './CheckList';
import { ExerciseLinks } from './ExerciseLinks';
import { SandboxStatus } from './SandboxStatus';
import type { SandboxUi } from './sandboxState';
import { SplitPane } from './SplitPane';
import { parseLayersLink } from '../layers/format';
import { StepActionsProvider } from './stepActions';
import type { PlayerLesson } from './types';
import { BOOT_DOCK_ID, bootTerminal } from './bootTerminal';
import { BootTerminalPane } from './BootTerminalPane';
import { useSandbox } from './useSandbox';
import { useStepProgress } from './useStepProgress';
import { forgetTerminals } from './terminalStore';
import { useTerminalSlots } from './useTerminalSlots';
import { useToasts } from './useToasts';
import { TabList, TabPanel } from './WorkspaceTabs';
// In the page's own stylesheet: the boot script's terminal is drawn before any chunk of the player loads.
import '@xterm/xterm/css/xterm.css';

// The first terminal is the boot script's (BootTerminalPane); xterm's chunk loads for any other.
const TerminalPane = dynamic(() => import('./TerminalPane'), { ssr: false });
const EditorPane = dynamic(() => import('./EditorPane'), { ssr: false });
const LayersPanel = dynamic(() => import('../layers/LayersPanel'), { ssr: false });
// Only a solution is Markdown that comes after the page: its parser loads when one is shown.
const StepView = dynamic(() => import('./StepView'), { ssr: false });

type Tab = string; // `term:<key>` | 'editor' | 'layers'

export function LessonPlayer({
  lesson,
  stepTexts,
  locale,
  initialStepId,
}: {
  lesson: PlayerLesson;
  /** Each step's text, rendered on the server (StepMarkdown), in the order of `lesson.steps`. */
  stepTexts: ReactNode[];
  locale: Locale;
  initialStepId?: string;
}) {
  const m = t(locale);
  const sandbox = useSandbox(lesson.id, m);
  const { socket, ui, online, sandboxId } = sandbox;
  const progress = useStepProgress({ lesson, initialStepId, socket, sandboxId, online });
  const { step, stepIndex, stepStatus, isLast } = progress;
  const terminals = useTerminalSlots(sandboxId, socket);
  const terms = terminals.slots;
  const { toasts, dismiss } = useToasts(socket);
  // Rendered again when the boot script's terminal turns out to be gone as its tab mounts.
  const [, bootGone] = useState(0);

  const [tab, setTab] = useState<Tab>('term:1');
  // The Layers view loads the first time its tab opens, then stays (hidden) and follows the engine.
  const [layersOpened, setLayersOpened] = useState(false);
  if (tab === 'layers' && !layersOpened) setLayersOpened(true);
  const [layersFocus, setLayersFocus] = useState<{ image?: string; layer?: number } | null>(null);
  const stepHeading = useRef<HTMLHeadingElement>(null);
  const lessonPane = useRef<HTMLDivElement>(null);

  // A new sandbox shows its first terminal (the editor or layers stay if they were open).
  useEffect(() => {
    if (sandboxId) setTab((current) => (current.startsWith('term:') ? 'term:1' : current));
  }, [sandboxId]);

  const activeTerminal = terms.find((s) => `term:${s.key}` === tab) ?? terms[0];
  const runCommandNow = (command: string) => {
    if (!socket || !activeTerminal?.id) return;
    setTab(`term:${activeTerminal.key}`);
    socket.emit('terminal:input', { terminalId: activeTerminal.id, data: command.replace(/\n/g, '\r') + '\r' });
    requestAnimationFrame(() =>
      document.querySelector<HTMLTextAreaElement>(`#panel-term-${activeTerminal.key} textarea`)?.focus(),
    );
  };

  // Stable across renders, so the step's blocks and links re-render only when a terminal comes or goes.
  const latestRun = useRef(runCommandNow);
  latestRun.current = runCommandNow;
  const runCommand = useCallback((command: string) => latestRun.current(command), []);
  const openLayersLink = useCallback((hash: string) => {
    setLayersFocus(parseLayersLink(hash));
    setTab('layers');
  }, []);
  const canRun = Boolean(sandboxId && activeTerminal?.id);
  const stepActions = useMemo(
    () => ({ onRun: canRun ? runCommand : undefined, onLayersLink: openLayersLink }),
    [canRun, runCommand, openLayersLink],
  );

  const go = (index: number) => {
    progress.goTo(index);
    // A new step starts at its top, as a new page would.
    lessonPane.current?.scrollTo({ top: 0 });
    requestAnimationFrame(() => stepHeading.current?.focus({ preventScroll: true }));
  };

  const reset = () => {
    const old = sandboxId;
    void sandbox.reset().then((replaced) => {
      if (replaced && old) forgetTerminals(old);
    });
  };

  const idleWarning = useMemo(
    () =>
      sandbox.idleWarningAt &&
      new Date(sandbox.idleWarningAt).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' }),
    [sandbox.idleWarningAt, locale],
  );
  const doneCount = progress.doneCount;
  const tabs = useMemo(
    () => [
      ...terms.map((s, i) => ({ id: `term:${s.key}`, label: m.terminal(i + 1) })),
      { id: 'editor', label: m.editor },
      { id: 'layers', label: m.layers },
    ],
    [terms, m],
  );

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
            const st = progress.statuses[s.id] ?? 'pending';
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
        <ExerciseLinks lessonId={lesson.id} exercises={lesson.exercises} statuses={progress.statuses} locale={locale} />
      </details>
      <article className="step" aria-labelledby="step-title" data-step-id={step.id} data-status={stepStatus}>
        <h2 id="step-title" ref={stepHeading} tabIndex={-1}>
          {step.title[locale]}
          {isStepDone(stepStatus) && <span className="step-badge"> ✓ {m.status[stepStatus]}</span>}
        </h2>
        <StepActionsProvider value={stepActions}>{stepTexts[stepIndex]}</StepActionsProvider>
        <CheckList checks={step.checks} results={progress.stepResults} locale={locale} m={m} />
        {stepStatus === 'passed' && (
          <p className="step-done" role="status">
            {m.stepDone}
          </p>
        )}
        <div className="step-help">
          {progress.hints.map((h, i) => (
            <aside key={i} className="callout callout-tip" role="note">
              {h[locale]}
            </aside>
          ))}
          {step.hintCount > progress.hints.length && (
            <button type="button" className="small-button" onClick={() => void progress.showHint()}>
              {m.hint}
            </button>
          )}
          {step.hasSolution && !progress.solution && (
            <button type="button" className="small-button" onClick={() => void progress.showSolution()}>
              {m.solution}
            </button>
          )}
          {!isStepDone(stepStatus) && !isLast && (
            <button
              type="button"
              className="small-button"
              onClick={() => void progress.skip().then(() => go(stepIndex + 1))}
            >
              {m.skip}
            </button>
          )}
          {progress.solution && (
            <StepView markdown={progress.solution[locale]} locale={locale} onRun={sandboxId ? runCommand : undefined} />
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
      <p className="lesson-pane-links">
        {/* A new tab: the learner keeps their place in the lesson while they look. */}
        <a href="/catalogue" target="_blank" rel="noopener" aria-label={m.catalogueLinkNewTab}>
          {m.catalogueLink} ↗
        </a>
      </p>
    </div>
  );

  const right = (
    <div className="workspace" aria-label={m.workspace} role="region">
      <div className="tabs-row">
        <TabList tabs={tabs} selected={tab} onSelect={setTab} label={m.workspace} />
        {sandboxId && (
          <button
            type="button"
            className="small-button"
            aria-label={m.newTerminal}
            title={m.newTerminal}
            onClick={() => setTab(`term:${terminals.add()}`)}
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
              const next = terminals.close(tab.slice('term:'.length));
              if (next) setTab(`term:${next}`);
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
        {ui.kind !== 'ready' && <SandboxMessage ui={ui} m={m} onRetry={sandbox.retry} />}
        {socket &&
          sandboxId &&
          terms.map((slot, i) => {
            const pane = {
              label: m.terminalLabel(i + 1),
              exitedText: m.terminalExited,
              locale,
              active: tab === `term:${slot.key}`,
              onOpened: (id: string) => terminals.opened(slot.key, id),
              onError: sandbox.fail,
              onLeave: () => stepHeading.current?.focus(),
            };
            const boot = slot.key === '1' ? bootTerminal(sandboxId) : null;
            return (
              <TabPanel key={`${sandboxId}:${slot.key}`} id={`term:${slot.key}`} selected={tab}>
                {boot ? (
                  <BootTerminalPane {...pane} session={boot} onGone={() => bootGone((n) => n + 1)} />
                ) : (
                  <TerminalPane {...pane} socket={socket} sandboxId={sandboxId} terminalId={slot.id} />
                )}
              </TabPanel>
            );
          })}
        {/* The boot script draws the first terminal here before the page hydrates; its tab then takes it.
            React leaves what is inside alone (it has no children of React's). */}
        <div
          id={BOOT_DOCK_ID}
          className="boot-terminal-dock"
          data-label={m.terminalLabel(1)}
          data-exited={m.terminalExited}
          dangerouslySetInnerHTML={{ __html: '' }}
        />
        <TabPanel id="editor" selected={tab}>
          {sandboxId && <EditorPane key={sandboxId} sandboxId={sandboxId} m={m} active={tab === 'editor'} />}
        </TabPanel>
        <TabPanel id="layers" selected={tab}>
          {socket && sandboxId && layersOpened && (
            <LayersPanel
              key={sandboxId}
              apiBase={`/api/sandboxes/${sandboxId}`}
              locale={locale}
              subscribe={sandbox.subscribeLayers}
              focus={layersFocus}
            />
          )}
        </TabPanel>
      </div>
    </div>
  );

  return (
    <div className="player" onKeyDown={sandbox.markActive}>
      <header className="player-header">
        {/* Not prefetched: the server would render the home page while this page's socket waits for it. */}
        <Link href="/" prefetch={false} className="brand" aria-label={`Dockside — ${m.home}`}>
          Dockside
        </Link>
        <h1 className="lesson-title">{lesson.title[locale]}</h1>
        <SandboxStatus ui={ui} idleWarning={idleWarning} m={m} onReset={reset} />
        <LanguageSwitch current={locale} label={m.language} />
      </header>
      <SplitPane left={left} right={right} label={m.resize} />
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((x) => (
          <div key={x.id} className="toast">
            {x.from && <strong>{m.toastFrom(x.from)}: </strong>}
            <span>{x.message}</span>
            <button type="button" className="small-button" onClick={() => dismiss(x.id)}>
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
