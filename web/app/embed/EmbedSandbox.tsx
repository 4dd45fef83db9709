'use client';
// The embeddable sandbox: a terminal (and the editor, when asked for) on the learner's own sandbox, with
// the named step's checks in one compact row, or a plain sandbox with images pulled. It is the lesson
// player's parts (useSandbox, useStepProgress, useTerminalSlots, TerminalPane, EditorPane, CheckList)
// arranged for a small frame; each still owns its lifecycle.
import dynamic from 'next/dynamic';
import { useState } from 'react';
import type { Locale } from '@dockside/lessons';
import { t, type Messages } from '../../lib/i18n';
import { isStepDone, type DocksideSocket } from '../../lib/socket';
import { CheckList } from '../../components/player/CheckList';
import { exerciseMessages } from '../../components/player/exerciseMessages';
import { StepView } from '../../components/player/StepView';
import { withoutTitle } from '../../components/player/stepMarkdown';
import type { PlayerExercise, PlayerLesson } from '../../components/player/types';
import { useExercise } from '../../components/player/useExercise';
import { useSandbox } from '../../components/player/useSandbox';
import { useStepProgress } from '../../components/player/useStepProgress';
import { useTerminalSlots } from '../../components/player/useTerminalSlots';
import { TabList, TabPanel } from '../../components/player/WorkspaceTabs';
import type { SandboxUi } from '../../components/player/sandboxState';
import { embedMessages } from './messages';
import { useEmbedSession } from './useEmbedSession';

const TerminalPane = dynamic(() => import('../../components/player/TerminalPane'), { ssr: false });
const EditorPane = dynamic(() => import('../../components/player/EditorPane'), { ssr: false });

export type EmbedProps = {
  locale: Locale;
  lesson?: PlayerLesson;
  stepId?: string;
  /** With `lesson`: its exercise, whose starting state is prepared here as on its page. */
  exercise?: PlayerExercise;
  images: string[];
  editor: boolean;
  /** "Open in Dockside": the same place on the site (/try?…). */
  tryHref: string;
};

export function EmbedSandbox(props: EmbedProps) {
  const em = embedMessages(props.locale);
  const { session, connect } = useEmbedSession(props.locale, em);
  const title = props.exercise
    ? `${em.exercise}: ${props.exercise.title[props.locale]}`
    : props.lesson
      ? props.lesson.title[props.locale]
      : props.images.length > 0
        ? em.sandboxWith(props.images.join(', '))
        : em.sandbox;
  return (
    <div className="embed">
      <header className="embed-header">
        <span className="brand">Dockside</span>
        <span className="embed-title">{title}</span>
        <a className="small-button" href={props.tryHref} target="_blank" rel="noopener">
          {em.openInDockside}
        </a>
      </header>
      {session.state === 'linked' ? (
        <EmbedWorkspace {...props} />
      ) : (
        <div className="embed-start">
          <button
            type="button"
            className="primary"
            disabled={session.state !== 'unlinked'}
            onClick={() => void connect()}
          >
            ▶ {em.start}
          </button>
          <p className="muted small">{session.state === 'unlinked' ? em.startNote : em.connecting}</p>
          {session.state === 'unlinked' && session.problem && (
            <p className="banner banner-error" role="alert">
              {session.problem}
            </p>
          )}
        </div>
      )}
    </div>
  );
}

function EmbedWorkspace({ locale, lesson, stepId, exercise, images, editor }: EmbedProps) {
  const m = t(locale);
  // A plain sandbox names no lesson: nothing is seeded into it.
  const sandbox = useSandbox(lesson?.id ?? '', m);
  const { socket, ui, online, sandboxId } = sandbox;
  const terminals = useTerminalSlots(sandboxId, socket);
  const slot = terminals.slots[0];
  const [tab, setTab] = useState('term:1');

  const opened = (id: string) => {
    if (!slot) return;
    terminals.opened(slot.key, id);
    if (socket && sandboxId) pullOnce(socket, sandboxId, id, images);
  };

  return (
    <div className="embed-body" onKeyDown={sandbox.markActive}>
      {lesson && exercise && socket && (
        <EmbedExercise
          lessonId={lesson.id}
          exercise={exercise}
          socket={socket}
          sandboxId={sandboxId}
          online={online}
          locale={locale}
          m={m}
        />
      )}
      {lesson && !exercise && socket && (
        <EmbedStep
          lesson={lesson}
          stepId={stepId}
          socket={socket}
          sandboxId={sandboxId}
          online={online}
          locale={locale}
          m={m}
        />
      )}
      <div className="workspace">
        {editor && (
          <div className="tabs-row">
            <TabList
              tabs={[
                { id: 'term:1', label: m.terminal(1) },
                { id: 'editor', label: m.editor },
              ]}
              selected={tab}
              onSelect={setTab}
              label={m.workspace}
            />
          </div>
        )}
        {!online && (
          <div className="banner banner-warn" role="alert">
            {m.offline}
          </div>
        )}
        <div className="tab-panels">
          {ui.kind !== 'ready' && <Waiting ui={ui} m={m} onRetry={sandbox.retry} />}
          {socket && sandboxId && slot && (
            <TabPanel key={`${sandboxId}:${slot.key}`} id="term:1" selected={tab}>
              <TerminalPane
                socket={socket}
                sandboxId={sandboxId}
                terminalId={slot.id}
                label={m.terminalLabel(1)}
                exitedText={m.terminalExited}
                locale={locale}
                active={tab === 'term:1'}
                onOpened={opened}
                onError={sandbox.fail}
                onLeave={() => document.querySelector<HTMLElement>('.embed-header a')?.focus()}
              />
            </TabPanel>
          )}
          {editor && (
            <TabPanel id="editor" selected={tab}>
              {sandboxId && <EditorPane key={sandboxId} sandboxId={sandboxId} m={m} active={tab === 'editor'} />}
            </TabPanel>
          )}
        </div>
      </div>
    </div>
  );
}

/** The images asked for, pulled in the terminal where the learner sees it, once per sandbox. */
function pullOnce(socket: DocksideSocket, sandboxId: string, terminalId: string, images: string[]) {
  if (images.length === 0) return;
  const key = `dockside:embed-pulled:${sandboxId}:${images.join(',')}`;
  try {
    if (sessionStorage.getItem(key)) return;
    sessionStorage.setItem(key, '1');
  } catch {
    // Storage denied in a third-party frame: pull again after a reload ("Image is up to date").
  }
  // The names were checked against the catalogue by the server: letters, digits, . _ - and one colon.
  socket.emit('terminal:input', { terminalId, data: images.map((i) => `docker pull ${i}`).join(' && ') + '\r' });
}

/** The step's title and its checks in a row; the step the learner is at when none is named. */
function EmbedStep({
  lesson,
  stepId,
  socket,
  sandboxId,
  online,
  locale,
  m,
}: {
  lesson: PlayerLesson;
  stepId?: string;
  socket: DocksideSocket;
  sandboxId: string | null;
  online: boolean;
  locale: Locale;
  m: Messages;
}) {
  const progress = useStepProgress({ lesson, initialStepId: stepId, socket, sandboxId, online });
  const { step, stepIndex, stepStatus } = progress;
  return (
    <section className="embed-step" aria-labelledby="embed-step-title" data-step-id={step.id} data-status={stepStatus}>
      <h2 id="embed-step-title">
        <span className="muted small">{m.stepOf(stepIndex + 1, lesson.steps.length)} · </span>
        {step.title[locale]}
        {isStepDone(stepStatus) && <span className="step-badge"> ✓ {m.status[stepStatus]}</span>}
      </h2>
      <CheckList checks={step.checks} results={progress.stepResults} locale={locale} m={m} />
    </section>
  );
}

/** The exercise: its goal (folded), its starting state being prepared, then its checks. */
function EmbedExercise({
  lessonId,
  exercise,
  socket,
  sandboxId,
  online,
  locale,
  m,
}: {
  lessonId: string;
  exercise: PlayerExercise;
  socket: DocksideSocket;
  sandboxId: string | null;
  online: boolean;
  locale: Locale;
  m: Messages;
}) {
  const ex = useExercise({ lessonId, exercise, socket, sandboxId, online });
  const x = exerciseMessages(locale);
  const { phase } = ex;
  return (
    <section
      className="embed-step"
      aria-labelledby="embed-step-title"
      data-exercise-id={exercise.id}
      data-phase={phase.kind}
      data-status={ex.status}
    >
      <h2 id="embed-step-title">
        {exercise.title[locale]}
        {isStepDone(ex.status) && <span className="step-badge"> ✓ {m.status[ex.status]}</span>}
      </h2>
      <details>
        <summary>{x.goal}</summary>
        {/* No onRun: an exercise's code blocks can be copied, never run for the learner. */}
        <StepView markdown={withoutTitle(exercise.body[locale])} locale={locale} />
      </details>
      {(phase.kind === 'waiting' || phase.kind === 'preparing') && (
        <div className="banner" role="status">
          <p>{phase.kind === 'preparing' && phase.message ? phase.message[locale] : x.preparing}</p>
          <progress max={100} value={phase.kind === 'preparing' ? phase.percent : 0} aria-label={x.preparing} />
        </div>
      )}
      {phase.kind === 'failed' && (
        <div className="banner banner-error" role="alert">
          <p>{x.prepareFailed(phase.message)}</p>
          <button type="button" className="primary" onClick={ex.retry}>
            {x.tryAgain}
          </button>
        </div>
      )}
      {phase.kind === 'ready' && <CheckList checks={exercise.checks} results={ex.results} locale={locale} m={m} />}
    </section>
  );
}

function Waiting({ ui, m, onRetry }: { ui: SandboxUi; m: Messages; onRetry: () => void }) {
  if (ui.kind === 'failed' || ui.kind === 'expired')
    return (
      <div className="banner banner-error" role="alert">
        <p>{ui.kind === 'failed' ? m.startFailed(ui.message) : m.expired}</p>
        <button type="button" className="primary" onClick={onRetry}>
          {ui.kind === 'failed' ? m.retry : m.startAgain}
        </button>
      </div>
    );
  if (ui.kind === 'queued')
    return (
      <div className="banner" role="status">
        {m.queued(ui.position, ui.estimateSeconds)}
      </div>
    );
  const label = ui.kind === 'starting' ? m.phase[ui.phase] : m.phase.connecting;
  return (
    <div className="banner" role="status">
      <p>{label}</p>
      <progress max={100} value={ui.kind === 'starting' ? ui.percent : 0} aria-label={label} />
    </div>
  );
}
