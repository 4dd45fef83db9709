// @vitest-environment happy-dom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { t } from '../../lib/i18n';
import { CheckList } from './CheckList';

afterEach(cleanup);

const checks = [
  { id: 'built', title: { en: 'The image exists', ko: '이미지가 있습니다' } },
  { id: 'runs', title: { en: 'It runs', ko: '실행됩니다' } },
  { id: 'tagged', title: { en: 'It is tagged', ko: '태그가 있습니다' } },
];

describe('CheckList', () => {
  it('shows every check pending before any result arrives', () => {
    render(<CheckList checks={checks} results={undefined} locale="en" m={t('en')} />);
    const items = screen.getAllByRole('listitem');
    expect(items.map((i) => i.getAttribute('data-status'))).toEqual(['pending', 'pending', 'pending']);
    expect(items[0]!.textContent).toContain('Waiting');
  });

  it('shows passed and failed checks, with the hint of a failed one in the page language', () => {
    const results = [
      { id: 'built', status: 'passed' as const },
      {
        id: 'runs',
        status: 'failed' as const,
        hint: { en: 'Run it with docker run', ko: 'docker run으로 실행하세요' },
      },
    ];
    const { rerender } = render(<CheckList checks={checks} results={results} locale="en" m={t('en')} />);
    const [built, runs, tagged] = screen.getAllByRole('listitem');
    expect(built!.getAttribute('data-status')).toBe('passed');
    expect(within(built!).getByText(/Passed/)).toBeTruthy();
    expect(runs!.getAttribute('data-status')).toBe('failed');
    expect(within(runs!).getByText('Run it with docker run')).toBeTruthy();
    expect(tagged!.getAttribute('data-status')).toBe('pending');

    rerender(<CheckList checks={checks} results={results} locale="ko" m={t('ko')} />);
    expect(screen.getByText('docker run으로 실행하세요')).toBeTruthy();
    expect(screen.getByText('실행됩니다')).toBeTruthy();
    expect(screen.queryByText('Run it with docker run')).toBeNull();
  });

  it('shows the names and commands of a check message as code, not backticks', () => {
    const results = [
      {
        id: 'built',
        status: 'failed' as const,
        hint: { en: 'There is no image `hello-world` yet.', ko: '아직 `hello-world` 이미지가 없습니다.' },
      },
    ];
    const { container } = render(<CheckList checks={checks} results={results} locale="en" m={t('en')} />);
    const hint = container.querySelector('.check-hint')!;
    expect(hint.textContent).toBe('There is no image hello-world yet.');
    expect([...hint.querySelectorAll('code')].map((c) => c.textContent)).toEqual(['hello-world']);
  });

  it('does not show a hint for a passed check', () => {
    render(
      <CheckList
        checks={checks}
        results={[{ id: 'built', status: 'passed', hint: { en: 'stale hint', ko: '오래된 힌트' } }]}
        locale="en"
        m={t('en')}
      />,
    );
    expect(screen.queryByText('stale hint')).toBeNull();
  });
});
