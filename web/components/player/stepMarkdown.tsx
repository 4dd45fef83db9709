// One step's text: Markdown with tables (GFM), callouts (`> [!NOTE]`), and shell blocks that run in the
// terminal with one click. No client directive: the lesson page renders it on the server, so the Markdown
// parser never ships to the browser there; its blocks and Layers links are client parts (stepActions).
import type { ReactElement } from 'react';
import Markdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import type { Locale } from '@dockside/lessons';
import { CodeBlock, LayersLink } from './stepActions';

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

type HastNode = {
  type: string;
  tagName?: string;
  value?: string;
  properties?: { className?: unknown };
  children?: HastNode[];
};
const textOf = (n: HastNode | undefined): string =>
  n?.type === 'text' ? (n.value ?? '') : (n?.children ?? []).map(textOf).join('');

/** The step's own `# Title` line repeats the title the page already shows as its heading. */
export const withoutTitle = (markdown: string) => markdown.replace(/^\s*# [^\n]*\n+/, '');

/** The elements for a code block, a link or a table; a code block's buttons speak the page's language. */
const componentsFor = (locale: Locale): Components => ({
  pre: ({ node }) => {
    const code = (node?.children as HastNode[] | undefined)?.find((c) => c.tagName === 'code');
    const cls = code?.properties?.className;
    const language =
      (Array.isArray(cls) ? cls : [])
        .map(String)
        .find((c) => c.startsWith('language-'))
        ?.slice(9) ?? '';
    return <CodeBlock code={textOf(code).replace(/\n$/, '')} language={language} locale={locale} />;
  },
  a: ({ href, children }) => {
    if (href?.startsWith('#layers:')) return <LayersLink href={href}>{children}</LayersLink>;
    const external = /^https?:\/\//.test(href ?? '');
    return (
      <a href={href} {...(external ? { target: '_blank', rel: 'noreferrer' } : {})}>
        {children}
      </a>
    );
  },
  table: ({ children }) => (
    <div className="table-wrap">
      <table>{children}</table>
    </div>
  ),
});
const components = { en: componentsFor('en'), ko: componentsFor('ko') } satisfies Record<Locale, Components>;

// Parsed once per text and language: the lesson page renders every step's text on each request, and
// parsing is the dearest part (the elements are immutable, so one tree serves every request).
const parsed = new Map<string, ReactElement>();
const PARSED_MAX = 512;

export function StepMarkdown({ markdown, locale }: { markdown: string; locale: Locale }) {
  const key = `${locale}\n${markdown}`;
  let tree = parsed.get(key);
  if (!tree) {
    const made = Markdown({
      children: markdown,
      remarkPlugins: [remarkGfm, remarkCallouts],
      components: components[locale],
    });
    if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, made);
    tree = made;
  }
  return <div className="step-text">{tree}</div>;
}
