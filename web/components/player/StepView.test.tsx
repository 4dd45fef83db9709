// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withoutTitle } from './stepMarkdown';
import { StepView } from './StepView';

afterEach(cleanup);

const md = `# Build it

Run **this**:

\`\`\`bash
docker build -t app .
\`\`\`

A file, not a command:

\`\`\`
FROM busybox
\`\`\`

| name | size |
| ---- | ---- |
| app  | 5 MB |

> [!TIP]
> Layers are cached.

> Just a quote.

See [the layers](#layers:image=app) and [Docker](https://docs.docker.com).
`;

describe('StepView', () => {
  it('renders headings, tables, callouts and code, with Run only on shell blocks', () => {
    const onRun = vi.fn();
    render(<StepView markdown={md} locale="en" onRun={onRun} />);
    expect(screen.getByRole('heading', { level: 1, name: 'Build it' })).toBeTruthy();
    expect(screen.getByRole('table')).toBeTruthy();
    expect(screen.getByRole('cell', { name: '5 MB' })).toBeTruthy();

    const note = screen.getByRole('note');
    expect(note.textContent).toContain('Layers are cached.');
    expect(note.textContent).not.toContain('[!TIP]');
    expect(note.className).toContain('callout-tip');
    expect(screen.getByText('Just a quote.').closest('blockquote')).toBeTruthy();

    const runs = screen.getAllByRole('button', { name: /^Run in the terminal/ });
    expect(runs).toHaveLength(1);
    fireEvent.click(runs[0]!);
    expect(onRun).toHaveBeenCalledWith('docker build -t app .');
    expect(screen.getAllByRole('button', { name: /^Copy:/ })).toHaveLength(2);
  });

  it('has no Run buttons without a terminal, and shows Korean labels in Korean', () => {
    render(<StepView markdown={md} locale="ko" />);
    expect(screen.queryAllByRole('button', { name: /^터미널에서 실행/ })).toHaveLength(0);
    expect(screen.getAllByRole('button', { name: /^복사:/ })).toHaveLength(2);
  });

  it('opens the Layers view from #layers: links and sends other links to a new tab', () => {
    const onLayersLink = vi.fn();
    render(<StepView markdown={md} locale="en" onLayersLink={onLayersLink} />);
    fireEvent.click(screen.getByRole('link', { name: 'the layers' }));
    expect(onLayersLink).toHaveBeenCalledWith('#layers:image=app');
    expect(screen.getByRole('link', { name: 'Docker' }).getAttribute('target')).toBe('_blank');
  });

  it('never renders raw HTML from lesson text', () => {
    const { container } = render(
      <StepView markdown={'<script>alert(1)</script><img src=x onerror=alert(1)>'} locale="en" />,
    );
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('img')).toBeNull();
  });

  it('drops the leading title line only', () => {
    expect(withoutTitle('# Title\n\nBody\n# Later')).toBe('Body\n# Later');
    expect(withoutTitle('Body')).toBe('Body');
  });
});
