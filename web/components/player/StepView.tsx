'use client';
// Markdown rendered in the browser, for text that comes after the page (a solution, a hint) and for the
// pages that render their text there (exercises, the embed). The lesson page's steps come rendered from
// the server (StepMarkdown) and take their actions from the page's own StepActionsProvider.
import { useMemo } from 'react';
import type { Locale } from '@dockside/lessons';
import { StepActionsProvider, type StepActions } from './stepActions';
import { StepMarkdown } from './stepMarkdown';

export type StepViewProps = StepActions & { markdown: string; locale: Locale };

export function StepView({ markdown, locale, onRun, onLayersLink }: StepViewProps) {
  const actions = useMemo(() => ({ onRun, onLayersLink }), [onRun, onLayersLink]);
  return (
    <StepActionsProvider value={actions}>
      <StepMarkdown markdown={markdown} locale={locale} />
    </StepActionsProvider>
  );
}

export default StepView;
