'use client';
// The instructor's live room: join code and QR for the projector, the learners × steps grid, failing
// checks, each engine at a glance; a learner's terminal mirrored read-only, their files, a message,
// a reset; open, extend and end the workshop; results as CSV.
import dynamic from 'next/dynamic';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Locale } from '@dockside/lessons';
import {
  columnLabels,
  type CellState,
  type DashboardLearner,
  type DashboardSnapshot,
  type WorkshopDetail,
} from '@dockside/protocol';
import { api, ApiError, pathQuery } from '../../lib/api';
import { duration, workshopMessages, type WorkshopMessages } from './messages';
import { openInstructorSocket, type InstructorSocket } from './socket';
import styles from './workshop.module.css';

const MirrorTerminal = dynamic(() => import('./MirrorTerminal'), { ssr: false });
const LayersPanel = dynamic(() => import('../layers/LayersPanel'), { ssr: false });

const cellClass: Record<CellState, string> = {
  done: styles.cellDone!,
  working: styles.cellWorking!,
  stuck: styles.cellStuck!,
  pending: styles.cellPending!,
};
/** Not by colour alone: each state has its mark. */
const cellMark: Record<CellState, string> = { done: '✓', working: '…', stuck: '!', pending: '' };
const spaced = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;

export function Dashboard({ workshopId, locale }: { workshopId: string; locale: Locale }) {
  const m = workshopMessages(locale);
  const router = useRouter();
  const [detail, setDetail] = useState<WorkshopDetail | null>(null);
  const [snapshot, setSnapshot] = useState<DashboardSnapshot | null>(null);
  const [socket, setSocket] = useState<InstructorSocket | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const [layersOf, setLayersOf] = useState<string | null>(null);
  const endDialog = useRef<HTMLDialogElement>(null);

  const loadDetail = useCallback(async () => {
    try {
      setDetail(await api<WorkshopDetail>('GET', `/api/workshops/${workshopId}`));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) router.replace('/instructor');
      else setError((err as Error).message);
    }
  }, [workshopId, router]);

  useEffect(() => {
    void loadDetail();
    const s = openInstructorSocket();
    setSocket(s);
    const watch = () =>
      s.emit('dashboard:watch', { workshopId }, (r) => {
        if (r.ok) setSnapshot(r.value);
        else setError(r.error.message);
      });
    s.on('connect', watch);
    // The server ends the connection when the instructor session has ended: sign in again.
    s.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') router.replace('/instructor');
    });
    s.on('connect_error', (err) => {
      if (/unauthorized/.test(err.message)) router.replace('/instructor');
    });
    s.on('dashboard:update', (snap) => {
      setSnapshot(snap);
    });
    return () => {
      s.disconnect();
    };
  }, [workshopId, loadDetail, router]);

  const act = async (path: string, body?: unknown, done?: string) => {
    setError(null);
    try {
      const r = await api<{ sent?: number }>('POST', `/api/workshops/${workshopId}${path}`, body);
      if (done) setNote(done);
      else if (r.sent !== undefined) setNote(m.sent(r.sent));
      await loadDetail();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (!detail) return <main className="home">{error && <p role="alert">{m.error(error)}</p>}</main>;
  const learner = snapshot?.learners.find((l) => l.learnerId === selected);
  const steps = snapshot?.lessons.flatMap((l) => l.steps.map((s) => ({ lessonId: l.id, ...s }))) ?? [];
  const labels = columnLabels(steps.map((s) => s.id));

  return (
    <main className={styles.dashboard}>
      <header className={styles.dashboardHeader}>
        <div>
          <Link href="/instructor/workshops">← {m.back}</Link>
          <h1>{detail.title}</h1>
          <p className="meta">
            <span data-testid="workshop-state">{m.state[detail.state]}</span> ·{' '}
            {m.learnersCount(snapshot?.learners.length ?? detail.learners, detail.seatLimit)}
            {detail.endsAt &&
              ` · ${m.endsAt(new Date(detail.endsAt).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' }))}`}
          </p>
        </div>
        <div className={styles.joinBox}>
          <span className="muted small">{m.joinCode}</span>
          <strong className={styles.joinCode} data-testid="join-code">
            {spaced(detail.joinCode)}
          </strong>
          <span className="small">
            {m.joinAt} <a href={detail.joinUrl}>{detail.joinUrl}</a>
          </span>
        </div>
        {/* The SVG is drawn by the server's QR encoder from our own join URL. */}
        <div
          className={styles.qr}
          role="img"
          aria-label={`QR: ${detail.joinUrl}`}
          dangerouslySetInnerHTML={{ __html: detail.qrSvg }}
        />
      </header>
      <div className={styles.dashboardActions}>
        {detail.state === 'draft' && (
          <button type="button" className="primary" onClick={() => void act('/open', undefined, m.opened)}>
            {m.open}
          </button>
        )}
        {detail.state === 'open' && (
          <>
            <button type="button" onClick={() => void act('/extend', { minutes: 15 })}>
              {m.extend}
            </button>
            <button type="button" className="danger" onClick={() => endDialog.current?.showModal()}>
              {m.end}
            </button>
          </>
        )}
        <Link className="button" href={`/instructor/workshops/${workshopId}/results`}>
          {m.resultsLink}
        </Link>
        <a className="button" href={`/api/workshops/${workshopId}/results.csv`} download>
          {m.results}
        </a>
        <form
          className={styles.messageForm}
          onSubmit={(e) => {
            e.preventDefault();
            void act('/message', { text: message }).then(() => setMessage(''));
          }}
        >
          <label>
            <span className="visually-hidden">{m.messageAll}</span>
            <input
              value={message}
              placeholder={m.messageAll}
              maxLength={500}
              onChange={(e) => setMessage(e.target.value)}
              required
            />
          </label>
          <button type="submit">{m.send}</button>
        </form>
      </div>
      {(note || error) && (
        <p className={error ? 'banner banner-error' : 'banner'} role={error ? 'alert' : 'status'}>
          {error ? m.error(error) : note}
        </p>
      )}
      <dialog ref={endDialog} className="confirm">
        <p>{m.endConfirm}</p>
        <form method="dialog" className="dialog-actions">
          <button value="cancel" autoFocus>
            {m.cancel}
          </button>
          <button value="end" className="danger" onClick={() => void act('/end')}>
            {m.end}
          </button>
        </form>
      </dialog>

      <div className={styles.dashboardBody}>
        <section className={styles.gridWrap} aria-labelledby="grid-heading">
          <h2 id="grid-heading">{m.grid}</h2>
          {snapshot && snapshot.learners.length === 0 ? (
            <p>{m.noLearners}</p>
          ) : (
            <table className={styles.roomGrid} data-testid="room-grid">
              <thead>
                <tr>
                  <th scope="col">{m.learner}</th>
                  {steps.map((s, i) => (
                    <th key={`${s.lessonId}/${s.id}`} scope="col" title={s.title[locale]}>
                      {labels[i]}
                    </th>
                  ))}
                  <th scope="col">{m.lastCommand}</th>
                </tr>
              </thead>
              <tbody>
                {snapshot?.learners.map((l) => (
                  <LearnerRow
                    key={l.learnerId}
                    l={l}
                    steps={steps}
                    m={m}
                    locale={locale}
                    selected={selected === l.learnerId}
                    onSelect={() => setSelected(l.learnerId)}
                  />
                ))}
              </tbody>
            </table>
          )}
          {snapshot?.medianStepSeconds != null && (
            <p className="muted small">{m.stuckNote(duration(locale, snapshot.medianStepSeconds))}</p>
          )}
        </section>
        {learner && socket && (
          <LearnerPanel
            key={learner.learnerId}
            learner={learner}
            workshopId={workshopId}
            socket={socket}
            m={m}
            locale={locale}
            onLayers={() => setLayersOf(learner.learnerId)}
            onClose={() => {
              setSelected(null);
              setLayersOf(null);
            }}
            act={act}
            onError={setError}
          />
        )}
      </div>
      {learner && socket && layersOf === learner.learnerId && learner.sandbox && (
        <section
          className={styles.learnerLayers}
          data-testid="learner-layers"
          aria-label={`${m.layers}: ${learner.displayName}`}
        >
          <h2>
            {m.layers}: {learner.displayName}
          </h2>
          <LayersPanel
            apiBase={`/api/workshops/${workshopId}/learners/${learner.learnerId}`}
            locale={locale}
            subscribe={(onChange) => {
              // The dashboard is pushed whenever a learner's engine changes.
              socket.on('dashboard:update', onChange);
              return () => void socket.off('dashboard:update', onChange);
            }}
          />
        </section>
      )}
    </main>
  );
}

function LearnerRow({
  l,
  steps,
  m,
  locale,
  selected,
  onSelect,
}: {
  l: DashboardLearner;
  steps: { lessonId: string; id: string; title: { en: string; ko: string } }[];
  m: WorkshopMessages;
  locale: Locale;
  selected: boolean;
  onSelect: () => void;
}) {
  return (
    <tr data-learner={l.displayName} aria-selected={selected}>
      <th scope="row">
        <button type="button" className="link-button" onClick={onSelect}>
          {l.displayName}
        </button>
        <div className="small muted">
          {l.engine ? m.engine(l.engine.images, l.engine.containers, l.engine.running) : m.noSandbox}
        </div>
        {l.failing.map((f) => (
          <div key={f.checkId} className={`small ${styles.failing}`}>
            ✗ {f.title[locale]}
            {f.hint && ` — ${f.hint[locale]}`}
          </div>
        ))}
      </th>
      {steps.map((s) => {
        const c = l.cells[s.lessonId]?.[s.id];
        const state = c?.state ?? 'pending';
        return (
          <td
            key={`${s.lessonId}/${s.id}`}
            className={`${styles.cell} ${cellClass[state]}`}
            data-step={s.id}
            data-state={state}
            title={`${s.title[locale]}: ${m.cell[state]} ${c?.seconds != null ? `(${duration(locale, c.seconds)})` : ''}`}
          >
            <span className={styles.cellMark} aria-hidden="true">
              {cellMark[state]}
            </span>
            <span className="visually-hidden">{m.cell[state]}</span>
          </td>
        );
      })}
      <td className={`small ${styles.mono}`}>
        {l.lastCommand
          ? `${l.lastCommand.exitCode === 0 ? '' : `[${l.lastCommand.exitCode}] `}${l.lastCommand.commandLine}`
          : ''}
      </td>
    </tr>
  );
}

function LearnerPanel({
  learner,
  workshopId,
  socket,
  m,
  locale,
  onLayers,
  onClose,
  act,
  onError,
}: {
  learner: DashboardLearner;
  workshopId: string;
  socket: InstructorSocket;
  m: WorkshopMessages;
  locale: Locale;
  onLayers: () => void;
  onClose: () => void;
  act: (path: string, body?: unknown, done?: string) => Promise<void>;
  onError: (e: string) => void;
}) {
  const [text, setText] = useState('');
  const [files, setFiles] = useState<{ dir: string; entries: { name: string; path: string; type: string }[] } | null>(
    null,
  );
  const [file, setFile] = useState<{ path: string; content: string } | null>(null);
  const resetDialog = useRef<HTMLDialogElement>(null);
  const base = `/api/workshops/${workshopId}/learners/${learner.learnerId}`;
  const listDir = (dir: string) =>
    void api<{ entries: { name: string; path: string; type: string }[] }>('GET', `${base}/files${pathQuery(dir)}`)
      .then((r) => setFiles({ dir, entries: r.entries }))
      .catch((err: unknown) => onError((err as Error).message));
  return (
    <aside className={styles.learnerPanel} aria-label={learner.displayName}>
      <div className={styles.panelHead}>
        <h2>{learner.displayName}</h2>
        <button type="button" className="small-button" onClick={onClose}>
          {m.close}
        </button>
      </div>
      <p className="small muted">
        {learner.current &&
          `${learner.current.lessonId} / ${learner.current.stepId} · ${duration(locale, learner.current.seconds)}`}
      </p>
      <h3>{m.watching(learner.displayName)}</h3>
      {learner.sandbox ? (
        <MirrorTerminal
          socket={socket}
          workshopId={workshopId}
          learnerId={learner.learnerId}
          label={m.watching(learner.displayName)}
          m={m}
          onError={onError}
        />
      ) : (
        <p className="muted">{m.noSandbox}</p>
      )}
      <form
        className={styles.messageForm}
        onSubmit={(e) => {
          e.preventDefault();
          void act('/message', { text, learnerId: learner.learnerId }).then(() => setText(''));
        }}
      >
        <label>
          <span className="visually-hidden">{m.messageOne(learner.displayName)}</span>
          <input
            value={text}
            placeholder={m.messageOne(learner.displayName)}
            maxLength={500}
            required
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        <button type="submit">{m.send}</button>
      </form>
      <div className={styles.rowActions}>
        <button
          type="button"
          className="small-button"
          disabled={!learner.sandbox}
          onClick={() => listDir('/workspace')}
        >
          {m.files}
        </button>
        <button type="button" className="small-button" disabled={!learner.sandbox} onClick={onLayers}>
          {m.layers}
        </button>
        <button
          type="button"
          className="small-button danger"
          disabled={!learner.sandbox}
          onClick={() => resetDialog.current?.showModal()}
        >
          {m.reset}
        </button>
      </div>
      {files && (
        <ul className="file-list" aria-label={files.dir}>
          <li className={`small ${styles.mono}`}>{files.dir}</li>
          {files.dir !== '/workspace' && (
            <li>
              <button
                type="button"
                className="file-entry"
                onClick={() => listDir(files.dir.slice(0, files.dir.lastIndexOf('/')) || '/workspace')}
              >
                ../
              </button>
            </li>
          )}
          {files.entries.map((f) => (
            <li key={f.path}>
              {f.type === 'file' ? (
                <button
                  type="button"
                  className="file-entry"
                  onClick={() =>
                    void api<{ path: string; content: string }>('GET', `${base}/file${pathQuery(f.path)}`)
                      .then(setFile)
                      .catch((err: unknown) => onError((err as Error).message))
                  }
                >
                  {f.name}
                </button>
              ) : f.type === 'dir' ? (
                <button type="button" className="file-entry" onClick={() => listDir(f.path)}>
                  {f.name}/
                </button>
              ) : (
                <span className="muted">{f.name}</span>
              )}
            </li>
          ))}
        </ul>
      )}
      {file && (
        <figure className={styles.fileView}>
          <figcaption className={`small ${styles.mono}`}>{file.path}</figcaption>
          <pre>{file.content}</pre>
        </figure>
      )}
      <dialog ref={resetDialog} className="confirm">
        <p>{m.resetConfirm(learner.displayName)}</p>
        <form method="dialog" className="dialog-actions">
          <button value="cancel" autoFocus>
            {m.cancel}
          </button>
          <button
            value="reset"
            className="danger"
            onClick={() => void act(`/learners/${learner.learnerId}/reset`, undefined, m.reset)}
          >
            {m.reset}
          </button>
        </form>
      </dialog>
    </aside>
  );
}
