'use client';
// A layer's files, virtualized: only the rows in view are in the DOM, so 100,000 entries scroll smoothly.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import { formatBytes } from './format';
import type { LayersMessages } from './messages';

export type FileRow = {
  path: string;
  size: number;
  change: 'A' | 'M' | 'D' | 'C' | null;
  layer?: number;
  linkTarget?: string;
};

export function FileList({ files, m, label }: { files: FileRow[]; m: LayersMessages; label: string }) {
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<'path' | 'size'>('path');
  const scroller = useRef<HTMLDivElement>(null);
  const shown = useMemo(() => {
    const f = filter.trim().replace(/^\/+/, '').toLowerCase();
    const list = f ? files.filter((x) => x.path.toLowerCase().includes(f)) : [...files];
    if (sort === 'size') list.sort((a, b) => b.size - a.size || a.path.localeCompare(b.path));
    return list;
  }, [files, filter, sort]);
  const rows = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 26,
    overscan: 20,
  });

  return (
    <div className="file-rows">
      <div className="file-rows-bar">
        <label>
          <span className="visually-hidden">{m.filter}</span>
          <input type="search" placeholder={m.filter} value={filter} onChange={(e) => setFilter(e.target.value)} />
        </label>
        <label>
          {m.sortBy}{' '}
          <select value={sort} onChange={(e) => setSort(e.target.value as 'path' | 'size')}>
            <option value="path">{m.sortPath}</option>
            <option value="size">{m.sortSize}</option>
          </select>
        </label>
        <span className="muted small" role="status">
          {m.count(shown.length, files.length)}
        </span>
      </div>
      <div ref={scroller} className="file-rows-scroll" role="list" aria-label={label} tabIndex={0}>
        <div style={{ height: rows.getTotalSize(), position: 'relative' }}>
          {rows.getVirtualItems().map((v) => {
            const f = shown[v.index]!;
            return (
              <div
                key={f.path + f.change}
                role="listitem"
                className={`file-row change-${f.change ?? 'none'}`}
                data-path={f.path}
                data-change={f.change ?? ''}
                style={{
                  position: 'absolute',
                  top: 0,
                  transform: `translateY(${v.start}px)`,
                  height: v.size,
                  width: '100%',
                }}
              >
                <span className="change-mark" title={f.change ? m.change[f.change] : undefined}>
                  {f.change ?? ''}
                  {f.change && <span className="visually-hidden"> {m.change[f.change]}</span>}
                </span>
                <span className="file-path">
                  /{f.path.replace(/^\//, '')}
                  {f.linkTarget ? ` → ${f.linkTarget}` : ''}
                </span>
                {f.layer !== undefined && f.change === null && (
                  <span className="muted small">{m.fromLayer(f.layer)}</span>
                )}
                <span className="file-size">{f.size ? formatBytes(f.size) : ''}</span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
