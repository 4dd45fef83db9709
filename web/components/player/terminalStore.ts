// The terminal ids of each sandbox's tabs, in localStorage, so a reload re-attaches to the same shells
// (with scrollback). Plain functions: the lesson page's boot script reads them before React runs.
export type TermSlot = { key: string; id?: string };

const storageKey = (sandboxId: string) => `dockside:terminals:${sandboxId}`;

/** The slots remembered for `sandboxId` (one new terminal when none). */
export function loadTerminals(sandboxId: string): TermSlot[] {
  let ids: string[] = [];
  try {
    ids = JSON.parse(localStorage.getItem(storageKey(sandboxId)) ?? '[]') as string[];
  } catch {
    ids = [];
  }
  return (ids.length ? ids : [undefined]).map((id, i) => ({ key: String(i + 1), id }));
}

// A browser may deny storage to a page framed by another site (/embed, third-party cookies blocked): the
// terminals then work as before, only a reload opens new ones.
export function saveTerminals(sandboxId: string, slots: TermSlot[]) {
  try {
    localStorage.setItem(storageKey(sandboxId), JSON.stringify(slots.map((s) => s.id).filter(Boolean)));
  } catch {
    /* storage denied */
  }
}

/** Drops what is remembered of a sandbox's terminals (it was replaced by a new one). */
export function forgetTerminals(sandboxId: string) {
  try {
    localStorage.removeItem(storageKey(sandboxId));
  } catch {
    /* storage denied */
  }
}
