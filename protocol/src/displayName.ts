// A learner's display name, as they type it (web/components/workshop/JoinForm.tsx) and as the server
// keeps it (PATCH /api/me, POST /api/join): one rule for both.

/** The longest display name, in characters (code points) after trimming. */
export const DISPLAY_NAME_MAX = 40;

// Control characters (C0, DEL, C1) and format characters (bidi overrides and isolates, zero-width
// spaces, the BOM…): invisible, or they reorder what an instructor reads next to the name. The zero-width
// joiner and non-joiner stay: emoji sequences and Persian or Indic spelling need them.
const HIDDEN = /(?![\u200c\u200d])[\p{Cc}\p{Cf}]/u;

/** The name as kept (trimmed), or why it cannot be one. */
export function displayName(input: string): { ok: true; name: string } | { ok: false; problem: string } {
  const name = input.trim();
  if (name.length === 0) return { ok: false, problem: 'must not be empty' };
  if ([...name].length > DISPLAY_NAME_MAX) return { ok: false, problem: `at most ${DISPLAY_NAME_MAX} characters` };
  if (HIDDEN.test(name)) return { ok: false, problem: 'no control or formatting characters' };
  return { ok: true, name };
}
