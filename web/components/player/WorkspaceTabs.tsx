'use client';
// The workspace's tabs (terminals, editor, layers): a WAI-ARIA tablist with one tab stop, the arrow keys,
// Home and End moving between tabs, each tab labelling its panel. Panels stay mounted when hidden.
import { useRef, type ReactNode } from 'react';

export type TabItem = { id: string; label: string };

/** A tab id (`term:1`, `editor`) as it appears in element ids: `tab-term-1`, `panel-term-1`. */
const domId = (id: string) => id.replace(':', '-');

export function TabList({
  tabs,
  selected,
  onSelect,
  label,
}: {
  tabs: TabItem[];
  selected: string;
  onSelect: (id: string) => void;
  label: string;
}) {
  const list = useRef<HTMLDivElement>(null);
  const onKeyDown = (e: React.KeyboardEvent) => {
    const i = tabs.findIndex((x) => x.id === selected);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabs.length - 1;
    if (next < 0) return;
    e.preventDefault();
    const id = tabs[next]!.id;
    onSelect(id);
    list.current?.querySelector<HTMLElement>(`#tab-${domId(id)}`)?.focus();
  };
  return (
    <div role="tablist" aria-label={label} className="tabs" onKeyDown={onKeyDown} ref={list}>
      {tabs.map((x) => (
        <button
          key={x.id}
          id={`tab-${domId(x.id)}`}
          role="tab"
          type="button"
          aria-selected={selected === x.id}
          aria-controls={`panel-${domId(x.id)}`}
          tabIndex={selected === x.id ? 0 : -1}
          onClick={() => onSelect(x.id)}
        >
          {x.label}
        </button>
      ))}
    </div>
  );
}

export function TabPanel({ id, selected, children }: { id: string; selected: string; children?: ReactNode }) {
  return (
    <div
      id={`panel-${domId(id)}`}
      role="tabpanel"
      aria-labelledby={`tab-${domId(id)}`}
      className="tab-panel"
      hidden={selected !== id}
    >
      {children}
    </div>
  );
}
