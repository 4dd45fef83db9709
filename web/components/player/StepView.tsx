'use client';
// One step's text: Markdown with tables (GFM), callouts (`> [!NOTE]`), and shell blocks that run in the
// terminal with one click.
import { memo, useState, type ReactNode } from 'react';
import Markdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import type { Messages } from '../../lib/i18n';

type MdNode = { type: string; value?: string; children?: MdNode[]; data?: Record<string, unknown> };
const CALLOUT = /^\[!(NOTE|TIP|WARNING|IMPORTANT|CAUTION)\]\s*/;

/** remark plugin: GitHub-style callouts become <aside class="callout callout-note" role="note">. */
function remarkCallouts() {
  const walk = (node: MdNode) => {
    if (node.type === 'blockquote') {
      const first = node.children?.[0]?.children?.[0];
      const match = first?.type === 'text' ? CALLOUT.exec(first.value ?? '') : null;
      if (first && match) {
        first.value = (first.value ?? '').slice(match[0].length);
        const kind = match[1]!.toLowerCase();
        node.data = {
          hName: 'aside',
          hProperties: { className: ['callout', `callout-${kind}`], role: 'note', dataKind: kind },
        };
      }
    }
    node.children?.forEach(walk);
  };
  return (tree: MdNode) => walk(tree);
}

const SHELL = new Set(['bash', 'sh', 'shell', 'console', 'terminal']);

type HastNode = {
  type: string;
  tagName?: string;
  value?: string;
  properties?: { className?: unknown };
  children?: HastNode[];
};
const textOf = (n: HastNode | undefined): string =>
  n?.type === 'text' ? (n.value ?? '') : (n?.children ?? []).map(textOf).join('');

function CodeBlock({
  code,
  language,
  m,
  onRun,
}: {
  code: string;
  language: string;
  m: Messages;
  onRun?: (cmd: string) => void;
}) {
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

export type StepViewProps = {
  markdown: string;
  m: Messages;
  /** Types a shell block into the active terminal and runs it. */
  onRun?: (command: string) => void;
  /** Links like `#layers:image=app` open the Layers tab. */
  onLayersLink?: (hash: string) => void;
};

/** The step's own `# Title` line repeats the title the page already shows as its heading. */
export const withoutTitle = (markdown: string) => markdown.replace(/^\s*# [^\n]*\n+/, '');

// Memoized: the page re-renders on every sandbox and terminal event, and parsing the Markdown is the
// dearest part of a render.
export const StepView = memo(function StepView({ markdown, m, onRun, onLayersLink }: StepViewProps) {
  const components: Components = {
    pre: ({ node }) => {
      const code = (node?.children as HastNode[] | undefined)?.find((c) => c.tagName === 'code');
      const cls = code?.properties?.className;
      const language =
        (Array.isArray(cls) ? cls : [])
          .map(String)
          .find((c) => c.startsWith('language-'))
          ?.slice(9) ?? '';
      return <CodeBlock code={textOf(code).replace(/\n$/, '')} language={language} m={m} onRun={onRun} />;
    },
    a: ({ href, children }) => {
      if (href?.startsWith('#layers:'))
        return (
          <a
            href={href}
            onClick={(e) => {
              e.preventDefault();
              onLayersLink?.(href);
            }}
          >
            {children as ReactNode}
          </a>
        );
      const external = /^https?:\/\//.test(href ?? '');
      return (
        <a href={href} {...(external ? { target: '_blank', rel: 'noreferrer' } : {})}>
          {children as ReactNode}
        </a>
      );
    },
    table: ({ children }) => (
      <div className="table-wrap">
        <table>{children as ReactNode}</table>
      </div>
    ),
  };
  return (
    <div className="step-text">
      <Markdown remarkPlugins={[remarkGfm, remarkCallouts]} components={components}>
        {markdown}
      </Markdown>
    </div>
  );
});
