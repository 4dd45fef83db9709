'use client';
// The checks under a step: each pending, passed or failed (with what is missing), updated live.
import type { Locale, Localized } from '@dockside/lessons';
import type { Messages } from '../../lib/i18n';
import type { CheckResultView } from '../../lib/socket';

const ICON = { pending: '○', passed: '✓', failed: '✗' } as const;

/** Check text marks commands and names with backticks, as the lesson text does: shown as code. */
function WithCode({ text }: { text: string }) {
  return text
    .split(/(`[^`]+`)/)
    .map((part, i) =>
      part.length > 2 && part.startsWith('`') && part.endsWith('`') ? <code key={i}>{part.slice(1, -1)}</code> : part,
    );
}

export function CheckList({
  checks,
  results,
  locale,
  m,
}: {
  checks: { id: string; title: Localized }[];
  results: CheckResultView[] | undefined;
  locale: Locale;
  m: Messages;
}) {
  const byId = new Map((results ?? []).map((r) => [r.id, r]));
  return (
    <section className="checks" aria-labelledby="checks-heading">
      <h3 id="checks-heading">{m.checks}</h3>
      <ul aria-live="polite">
        {checks.map((check) => {
          const result = byId.get(check.id);
          const status = result?.status ?? 'pending';
          return (
            <li key={check.id} className={`check check-${status}`} data-check-id={check.id} data-status={status}>
              <span className="check-icon" aria-hidden="true">
                {ICON[status]}
              </span>
              <span className="check-title">
                <WithCode text={check.title[locale]} />
              </span>
              <span className="visually-hidden"> — {m.checkStatus[status]}</span>
              {status === 'failed' && result?.hint && (
                <p className="check-hint">
                  <WithCode text={result.hint[locale]} />
                </p>
              )}
            </li>
          );
        })}
      </ul>
      <p className="checks-help">{m.checksHelp}</p>
    </section>
  );
}
