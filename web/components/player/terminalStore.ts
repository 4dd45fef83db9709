// The terminal ids of each sandbox's tabs, in localStorage, so a reload re-attaches to the same shells
// (with scrollback). Plain functions: the lesson page's boot script reads them before React runs.
export type TermSlot = { key: string; id?: string };

const storageKey = (sandboxId: string) => `dockside:terminals:${sandboxId}`;
// The sandbox whose terminals were saved last, and the size a terminal had last.
const LAST_SANDBOX = 'dockside:terminals-of';
const LAST_SIZE = 'dockside:terminal-size';

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
    localStorage.setItem(LAST_SANDBOX, sandboxId);
  } catch {
    /* storage denied */
  }
}

/** Remembers `terminalId` as the first tab's of `sandboxId`, keeping the other tabs'. */
export function saveFirstTerminal(sandboxId: string, terminalId: string) {
  saveTerminals(sandboxId, [{ key: '1', id: terminalId }, ...loadTerminals(sandboxId).slice(1)]);
}

/** Drops what is remembered of a sandbox's terminals (it was replaced by a new one). */
export function forgetTerminals(sandboxId: string) {
  try {
    localStorage.removeItem(storageKey(sandboxId));
  } catch {
    /* storage denied */
  }
}

/**
 * The first terminal of the sandbox last seen, for the lesson page's boot script, which asks to re-open it
 * before it knows the sandbox (the server opens it only if it is still of the sandbox it hands out).
 */
export function lastFirstTerminal(): string | undefined {
  try {
    const sandboxId = localStorage.getItem(LAST_SANDBOX);
    return sandboxId ? loadTerminals(sandboxId)[0]!.id : undefined;
  } catch {
    return undefined;
  }
}

/** The size the last terminal had (80 × 24 at first): the size the boot script asks for, fitted once shown. */
export function lastTerminalSize(): { cols: number; rows: number } {
  try {
    const [cols, rows] = (localStorage.getItem(LAST_SIZE) ?? '').split('x').map(Number);
    if (cols! >= 2 && cols! <= 500 && rows! >= 1 && rows! <= 200) return { cols: cols!, rows: rows! };
  } catch {
    /* storage denied */
  }
  return { cols: 80, rows: 24 };
}

export function saveTerminalSize(cols: number, rows: number) {
  try {
    localStorage.setItem(LAST_SIZE, `${cols}x${rows}`);
  } catch {
    /* storage denied */
  }
}
