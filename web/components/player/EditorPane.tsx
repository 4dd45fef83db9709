'use client';
// The editor tab: a file tree of /workspace and Monaco. Files are read and written inside the sandbox
// through the REST API; a save carries the etag the file was read at, so a change made underneath (in
// the terminal) is reported as a conflict instead of being overwritten.
import { useCallback, useEffect, useRef, useState } from 'react';
import type * as Monaco from 'monaco-editor';
import { api, ApiError, pathQuery } from '../../lib/api';
import type { Messages } from '../../lib/i18n';
import { languageFor, loadMonaco, type MonacoApi } from '../../lib/monaco';

type Entry = { name: string; path: string; type: 'file' | 'dir' | 'link'; size: number };
type OpenFile = { model: Monaco.editor.ITextModel; etag: string; savedVersion: number };
type Notice = { kind: 'error' | 'conflict' | 'saved'; text: string } | null;

export type EditorPaneProps = { sandboxId: string; m: Messages; active: boolean };

export default function EditorPane({ sandboxId, m, active }: EditorPaneProps) {
  const editorHost = useRef<HTMLDivElement>(null);
  const monacoRef = useRef<MonacoApi | null>(null);
  const editorRef = useRef<Monaco.editor.IStandaloneCodeEditor | null>(null);
  const files = useRef(new Map<string, OpenFile>());
  const currentRef = useRef<string | null>(null);
  const [tree, setTree] = useState<Record<string, Entry[]>>({});
  const [expanded, setExpanded] = useState<Set<string>>(new Set(['/workspace']));
  const [current, setCurrent] = useState<string | null>(null);
  const [dirty, setDirty] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<Notice>(null);
  const [ready, setReady] = useState(false);

  const list = useCallback(
    async (dir: string) => {
      try {
        const { entries } = await api<{ entries: Entry[] }>(
          'GET',
          `/api/sandboxes/${sandboxId}/files${pathQuery(dir)}`,
        );
        entries.sort((a, b) => (a.type === 'dir' ? 0 : 1) - (b.type === 'dir' ? 0 : 1) || a.name.localeCompare(b.name));
        setTree((t) => ({ ...t, [dir]: entries }));
      } catch (err) {
        setNotice({ kind: 'error', text: m.fileError((err as Error).message) });
      }
    },
    [sandboxId, m],
  );

  const markDirty = useCallback((path: string, isDirty: boolean) => {
    setDirty((d) => {
      if (d.has(path) === isDirty) return d;
      const next = new Set(d);
      if (isDirty) next.add(path);
      else next.delete(path);
      return next;
    });
  }, []);

  const save = useCallback(
    async (force = false) => {
      const path = currentRef.current;
      const file = path ? files.current.get(path) : undefined;
      if (!path || !file) return;
      // A text file ends with a newline, as editors and POSIX tools expect (`cat` would leave the next
      // prompt on its last line otherwise).
      const text = file.model.getValue();
      if (text && !text.endsWith('\n'))
        file.model.pushEditOperations(
          [],
          [{ range: file.model.getFullModelRange().collapseToEnd(), text: '\n' }],
          () => null,
        );
      const version = file.model.getAlternativeVersionId();
      try {
        const { etag } = await api<{ etag: string }>('PUT', `/api/sandboxes/${sandboxId}/file${pathQuery(path)}`, {
          content: file.model.getValue(),
          ...(force ? {} : { etag: file.etag }),
        });
        file.etag = etag;
        file.savedVersion = version;
        markDirty(path, file.model.getAlternativeVersionId() !== version);
        setNotice({ kind: 'saved', text: m.saved });
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) setNotice({ kind: 'conflict', text: m.conflict });
        else setNotice({ kind: 'error', text: m.saveError((err as Error).message) });
      }
    },
    [sandboxId, m, markDirty],
  );
  const saveRef = useRef(save);
  saveRef.current = save;

  /** Reads a file from the sandbox into its model (replacing what the model holds). */
  const load = useCallback(
    async (path: string) => {
      const monaco = monacoRef.current;
      if (!monaco) return;
      const { content, etag } = await api<{ content: string; etag: string }>(
        'GET',
        `/api/sandboxes/${sandboxId}/file${pathQuery(path)}`,
      );
      let file = files.current.get(path);
      if (file) file.model.setValue(content);
      else {
        const model = monaco.editor.createModel(content, languageFor(path), monaco.Uri.file(path));
        file = { model, etag, savedVersion: 0 };
        files.current.set(path, file);
        model.onDidChangeContent(() => markDirty(path, model.getAlternativeVersionId() !== file!.savedVersion));
      }
      file.etag = etag;
      file.savedVersion = file.model.getAlternativeVersionId();
      markDirty(path, false);
    },
    [sandboxId, markDirty],
  );

  const openFile = useCallback(
    async (path: string) => {
      setNotice(null);
      try {
        if (!files.current.has(path)) await load(path);
        const file = files.current.get(path)!;
        editorRef.current?.setModel(file.model);
        currentRef.current = path;
        setCurrent(path);
        editorRef.current?.focus();
      } catch (err) {
        setNotice({ kind: 'error', text: m.fileError((err as Error).message) });
      }
    },
    [load, m],
  );

  // Monaco loads the first time the tab is shown, and is disposed with the pane.
  useEffect(() => {
    if (!active || editorRef.current) return;
    let cancelled = false;
    void loadMonaco()
      .then((monaco) => {
        if (cancelled || !editorHost.current) return;
        monacoRef.current = monaco;
        const editor = monaco.editor.create(editorHost.current, {
          model: null,
          automaticLayout: true,
          theme: 'vs',
          fontSize: 14,
          minimap: { enabled: false },
          scrollBeyondLastLine: false,
          ariaLabel: m.editor,
        });
        editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => void saveRef.current());
        editorRef.current = editor;
        setReady(true);
      })
      .catch((err: unknown) => setNotice({ kind: 'error', text: m.fileError((err as Error).message) }));
    return () => {
      cancelled = true;
    };
  }, [active, m]);

  useEffect(
    () => () => {
      editorRef.current?.dispose();
      for (const f of files.current.values()) f.model.dispose();
      files.current.clear();
      editorRef.current = null;
    },
    [],
  );

  // Coming back to the tab: refresh the tree, and notice files changed in the sandbox meanwhile.
  useEffect(() => {
    if (!active || !ready) return;
    for (const dir of expanded) void list(dir);
    const path = currentRef.current;
    const file = path ? files.current.get(path) : undefined;
    if (!path || !file) return;
    void api<{ etag: string }>('GET', `/api/sandboxes/${sandboxId}/file${pathQuery(path)}`)
      .then(({ etag }) => {
        if (etag === file.etag) return;
        if (file.model.getAlternativeVersionId() === file.savedVersion) void load(path);
        else setNotice({ kind: 'conflict', text: m.conflict });
      })
      .catch(() => undefined);
    // `expanded` is read, not watched: toggling a folder lists it itself.
  }, [active, ready, sandboxId]);

  const toggle = (dir: string) => {
    setExpanded((e) => {
      const next = new Set(e);
      if (next.has(dir)) next.delete(dir);
      else {
        next.add(dir);
        void list(dir);
      }
      return next;
    });
  };

  const renderDir = (dir: string, depth: number) => {
    const entries = tree[dir];
    if (!entries) return null;
    if (entries.length === 0 && depth === 0) return <p className="muted small">{m.noFiles}</p>;
    return (
      <ul className="file-list" role="group">
        {entries.map((e) => (
          <li key={e.path}>
            {e.type === 'dir' ? (
              <>
                <button
                  type="button"
                  className="file-entry dir"
                  aria-expanded={expanded.has(e.path)}
                  onClick={() => toggle(e.path)}
                >
                  <span aria-hidden="true">{expanded.has(e.path) ? '▾' : '▸'}</span> {e.name}/
                </button>
                {expanded.has(e.path) && renderDir(e.path, depth + 1)}
              </>
            ) : (
              <button
                type="button"
                className="file-entry"
                aria-current={current === e.path ? 'true' : undefined}
                data-path={e.path}
                onClick={() => void openFile(e.path)}
              >
                {e.name}
                {dirty.has(e.path) && (
                  <span className="dirty-mark" title={m.unsaved}>
                    {' '}
                    ●<span className="visually-hidden"> ({m.unsaved})</span>
                  </span>
                )}
              </button>
            )}
          </li>
        ))}
      </ul>
    );
  };

  return (
    <div className="editor-pane">
      <nav className="file-tree" aria-label={m.files}>
        <div className="file-tree-head">
          <span>/workspace</span>
          <button type="button" className="small-button" onClick={() => void list('/workspace')}>
            {m.refresh}
          </button>
        </div>
        {renderDir('/workspace', 0)}
      </nav>
      <div className="editor-main">
        <div className="editor-bar">
          <span className="editor-path" data-testid="editor-path">
            {current ?? m.openFile}
            {current && dirty.has(current) && <span className="dirty-mark"> ● {m.unsaved}</span>}
          </span>
          <span className="muted small">{m.saveHelp}</span>
          <button type="button" className="small-button" disabled={!current} onClick={() => void save()}>
            {m.save}
          </button>
        </div>
        {notice && (
          <div className={`notice notice-${notice.kind}`} role={notice.kind === 'saved' ? 'status' : 'alert'}>
            <span>{notice.text}</span>
            {notice.kind === 'conflict' && current && (
              <>
                <button type="button" className="small-button" onClick={() => void save(true)}>
                  {m.keepMine}
                </button>
                <button
                  type="button"
                  className="small-button"
                  onClick={() => void load(current).then(() => setNotice(null))}
                >
                  {m.takeTheirs}
                </button>
              </>
            )}
          </div>
        )}
        <div ref={editorHost} className="editor-host" data-testid="editor" data-path={current ?? undefined}>
          {!ready && <p className="muted pad">{m.loading}</p>}
        </div>
      </div>
    </div>
  );
}
