'use client';
// The workspace of a page that works in the learner's sandbox: terminal tabs (`+` opens another), the
// editor and the Layers view, with the sandbox's start-up state over them. It owns its tabs; the page
// gives it the sandbox (useSandbox) and says where focus goes when the learner leaves a terminal.
import dynamic from 'next/dynamic';
import { useEffect, useMemo, useState } from 'react';
import type { Locale } from '@dockside/lessons';
import type { Messages } from '../../lib/i18n';
import type { SandboxUi } from './sandboxState';
import type { useSandbox } from './useSandbox';
import { useTerminalSlots } from './useTerminalSlots';
import { TabList, TabPanel } from './WorkspaceTabs';

const TerminalPane = dynamic(() => import('./TerminalPane'), { ssr: false });
// xterm's code is fetched as soon as this module runs, not once the sandbox is ready.
if (typeof window !== 'undefined') void import('./TerminalPane');
const EditorPane = dynamic(() => import('./EditorPane'), { ssr: false });
const LayersPanel = dynamic(() => import('../layers/LayersPanel'), { ssr: false });

export function WorkspacePanel({
  sandbox,
  m,
  locale,
  onLeave,
}: {
  sandbox: ReturnType<typeof useSandbox>;
  m: Messages;
  locale: Locale;
  onLeave: () => void;
}) {
  const { socket, sandboxId, ui, online } = sandbox;
  const terminals = useTerminalSlots(sandboxId, socket);
  const terms = terminals.slots;
  const [tab, setTab] = useState('term:1');
  // The Layers view loads the first time its tab opens, then stays (hidden) and follows the engine.
  const [layersOpened, setLayersOpened] = useState(false);
  if (tab === 'layers' && !layersOpened) setLayersOpened(true);
  useEffect(() => {
    if (sandboxId) setTab((current) => (current.startsWith('term:') ? 'term:1' : current));
  }, [sandboxId]);
  const tabs = useMemo(
    () => [
      ...terms.map((s, i) => ({ id: `term:${s.key}`, label: m.terminal(i + 1) })),
      { id: 'editor', label: m.editor },
      { id: 'layers', label: m.layers },
    ],
    [terms, m],
  );

  return (
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
        {ui.kind !== 'ready' && <StartingMessage ui={ui} m={m} onRetry={sandbox.retry} />}
        {socket &&
          sandboxId &&
          terms.map((slot, i) => (
            <TabPanel key={`${sandboxId}:${slot.key}`} id={`term:${slot.key}`} selected={tab}>
              <TerminalPane
                socket={socket}
                sandboxId={sandboxId}
                terminalId={slot.id}
                label={m.terminalLabel(i + 1)}
                exitedText={m.terminalExited}
                locale={locale}
                active={tab === `term:${slot.key}`}
                onOpened={(id) => terminals.opened(slot.key, id)}
                onError={sandbox.fail}
                onLeave={onLeave}
              />
            </TabPanel>
          ))}
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
              focus={null}
            />
          )}
        </TabPanel>
      </div>
    </div>
  );
}

function StartingMessage({ ui, m, onRetry }: { ui: SandboxUi; m: Messages; onRetry: () => void }) {
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
  const percent = ui.kind === 'starting' ? ui.percent : 0;
  const label = ui.kind === 'starting' ? m.phase[ui.phase] : m.phase.connecting;
  return (
    <div className="banner" role="status">
      <p>{label}</p>
      <progress max={100} value={percent} aria-label={label} />
    </div>
  );
}
