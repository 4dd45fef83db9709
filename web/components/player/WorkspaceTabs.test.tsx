// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { TabList, TabPanel } from './WorkspaceTabs';

afterEach(cleanup);

const tabs = [
  { id: 'term:1', label: 'Terminal 1' },
  { id: 'term:3', label: 'Terminal 2' },
  { id: 'editor', label: 'Editor' },
  { id: 'layers', label: 'Layers' },
];

function Workspace() {
  const [tab, setTab] = useState('term:1');
  return (
    <>
      <TabList tabs={tabs} selected={tab} onSelect={setTab} label="Workspace" />
      {tabs.map((x) => (
        <TabPanel key={x.id} id={x.id} selected={tab}>
          {x.label} panel
        </TabPanel>
      ))}
    </>
  );
}

const selected = () => screen.getAllByRole('tab').filter((t) => t.getAttribute('aria-selected') === 'true');

describe('WorkspaceTabs', () => {
  it('is a labelled tablist whose tabs control their panels, one tab stop at the selected tab', () => {
    render(<Workspace />);
    const list = screen.getByRole('tablist', { name: 'Workspace' });
    const all = screen.getAllByRole('tab');
    expect(list.contains(all[0]!)).toBe(true);
    expect(all.map((t) => t.id)).toEqual(['tab-term-1', 'tab-term-3', 'tab-editor', 'tab-layers']);
    expect(all.map((t) => t.getAttribute('aria-controls'))).toEqual([
      'panel-term-1',
      'panel-term-3',
      'panel-editor',
      'panel-layers',
    ]);
    expect(all.map((t) => t.tabIndex)).toEqual([0, -1, -1, -1]);
    const panel = document.getElementById('panel-term-1')!;
    expect(panel.getAttribute('role')).toBe('tabpanel');
    expect(panel.getAttribute('aria-labelledby')).toBe('tab-term-1');
    expect(panel.hidden).toBe(false);
    expect(document.getElementById('panel-editor')!.hidden).toBe(true);
  });

  it('moves with the arrow keys (wrapping), Home and End, focusing the tab it selects', () => {
    render(<Workspace />);
    const first = screen.getByRole('tab', { name: 'Terminal 1' });
    act(() => first.focus());
    fireEvent.keyDown(first, { key: 'ArrowLeft' });
    expect(selected().map((t) => t.textContent)).toEqual(['Layers']);
    expect(document.activeElement?.id).toBe('tab-layers');
    expect(document.getElementById('panel-layers')!.hidden).toBe(false);
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowRight' });
    expect(document.activeElement?.id).toBe('tab-term-1');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowRight' });
    expect(document.activeElement?.id).toBe('tab-term-3');
    fireEvent.keyDown(document.activeElement!, { key: 'End' });
    expect(document.activeElement?.id).toBe('tab-layers');
    fireEvent.keyDown(document.activeElement!, { key: 'Home' });
    expect(selected().map((t) => t.id)).toEqual(['tab-term-1']);
    // Other keys are left to the page.
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(selected().map((t) => t.id)).toEqual(['tab-term-1']);
  });

  it('selects a tab that is clicked', () => {
    render(<Workspace />);
    fireEvent.click(screen.getByRole('tab', { name: 'Editor' }));
    expect(selected().map((t) => t.id)).toEqual(['tab-editor']);
    expect(document.getElementById('panel-term-1')!.hidden).toBe(true);
  });
});
