'use client';
// What a step's text can do on the page: run a shell block in the active terminal, copy it, open the
// Layers view from a `#layers:` link. The text around these may be rendered on the server (StepMarkdown);
// these parts are the browser's, and take the page's actions from the nearest StepActionsProvider.
import { createContext, useContext, useState, type ReactNode } from 'react';
import type { Locale } from '@dockside/lessons';
import { t } from '../../lib/i18n';

export type StepActions = {
  /** Types a shell block into the active terminal and runs it; without it, blocks have no Run button. */
  onRun?: (command: string) => void;
  /** Links like `#layers:image=app` open the Layers tab. */
  onLayersLink?: (hash: string) => void;
};

const Actions = createContext<StepActions>({});

/** Give it a stable value (memoized): every block and link below re-renders when it changes. */
export function StepActionsProvider({ value, children }: { value: StepActions; children: ReactNode }) {
  return <Actions.Provider value={value}>{children}</Actions.Provider>;
}

const SHELL = new Set(['bash', 'sh', 'shell', 'console', 'terminal']);

export function CodeBlock({ code, language, locale }: { code: string; language: string; locale: Locale }) {
  const { onRun } = useContext(Actions);
  const m = t(locale);
  const [copied, setCopied] = useState(false);
  const runnable = SHELL.has(language) && onRun;
  const copy = async () => {
    await navigator.clipboard?.writeText(code).catch(() => undefined);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <div className="code-block" data-language={language || undefined}>
      <pre>
        <code>{code}</code>
      </pre>
      <div className="code-actions">
        {runnable && (
          <button type="button" className="run" aria-label={m.runLabel(code)} onClick={() => onRun(code)}>
            ▶ {m.run}
          </button>
        )}
        <button type="button" aria-label={m.copyLabel(code)} onClick={() => void copy()}>
          {copied ? m.copied : m.copy}
        </button>
      </div>
    </div>
  );
}

export function LayersLink({ href, children }: { href: string; children: ReactNode }) {
  const { onLayersLink } = useContext(Actions);
  return (
    <a
      href={href}
      onClick={(e) => {
        e.preventDefault();
        onLayersLink?.(href);
      }}
    >
      {children}
    </a>
  );
}
