/** Bytes as people read them: 0 B, 512 B, 2.0 kB, 48.3 MB. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/** Bytes in binary units, as the server's limits are set: 512 B, 4 MiB, 32 GiB. */
export function formatBinary(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/**
 * A history line as a Dockerfile instruction. The legacy builder wrote `/bin/sh -c #(nop) CMD ["sh"]`
 * and `/bin/sh -c rm /big`; BuildKit writes `RUN /bin/sh -c rm /big # buildkit`, `COPY app.py . # buildkit`,
 * `WORKDIR /app`. Either way a RUN in effect with build args starts `|N NAME=value … /bin/sh -c`.
 */
export function instruction(createdBy: string): string {
  const s = createdBy.trim().replace(/\s*# buildkit$/, '');
  const nop = /^\/bin\/sh -c #\(nop\)\s*/.exec(s);
  if (nop) return s.slice(nop[0].length).trim();
  const run = /^(?:RUN\s+)?(?:\|\d+ .*?)?\/bin\/sh -c\s+/.exec(s);
  if (run) return `RUN ${s.slice(run[0].length)}`;
  return s;
}

/** `#layers:image=myapp&layer=2` (a link in a lesson step) → what to show. */
export function parseLayersLink(hash: string): { image?: string; layer?: number } | null {
  const m = /^#?layers:(.*)$/.exec(hash);
  if (!m) return null;
  const params = new URLSearchParams(m[1]);
  const layer = params.get('layer');
  return {
    ...(params.get('image') ? { image: params.get('image')! } : {}),
    ...(layer !== null && /^\d+$/.test(layer) ? { layer: Number(layer) } : {}),
  };
}
