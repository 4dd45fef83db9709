// Marks on the page's own clock (performance.mark, ms since navigation) for the steps between a click and a
// usable prompt; `bench:web` reads them to show where the time goes. Only the first of each name counts.
export type LoadMark = 'boot' | 'hydrated' | 'socket' | 'ensured' | 'terminal-open' | 'prompt';

export function markLoad(name: LoadMark): void {
  if (typeof performance === 'undefined' || !performance.mark) return;
  if (performance.getEntriesByName(`dockside:${name}`).length === 0) performance.mark(`dockside:${name}`);
}
