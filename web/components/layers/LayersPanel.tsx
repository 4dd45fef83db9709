'use client';
// The Layers tab: the learner's images and containers, each image's layer stack (bottom to top, bars by
// size, shared layers marked), a comparison of two images, a layer's files, and which layer touched a
// path. It refreshes by itself when the learner's engine changes.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Locale } from '@dockside/lessons';
import type {
  ContainerChanges,
  ContainerSummary,
  EngineContents,
  FullView,
  ImageSummary,
  InstantView,
  LayerFiles,
  PathHistory,
} from '@dockside/protocol';
import { api, ApiError } from '../../lib/api';
import { FileList, type FileRow } from './FileList';
import { formatBytes, instruction } from './format';
import { failureText, isEngineLimit, layersMessages, type LayersMessages } from './messages';

type Image = ImageSummary;
/** An image's layers as far as they are known: the instant view first, the analysis's figures when they come. */
type Detail = Pick<InstantView, 'rows' | 'diffIds'> & {
  summary?: Pick<FullView, 'totalBytes' | 'wastedBytes' | 'efficiency' | 'layers'>;
};
type Selection = { kind: 'layer'; layer: number } | { kind: 'container'; id: string; name: string } | null;

const nameOf = (i: Image) => i.tags[0]?.replace(/:latest$/, '') ?? i.id.slice(7, 19);

export type LayersPanelProps = {
  /** The sandbox's Layers API: `/api/sandboxes/ID` for a learner, a workshop learner's for an instructor. */
  apiBase: string;
  locale: Locale;
  /** Calls back when the engine changed; returns the unsubscribe. */
  subscribe: (onChange: () => void) => () => void;
  /** From a lesson link: the image (and layer) to show. */
  focus?: { image?: string; layer?: number } | null;
};

export default function LayersPanel({ apiBase: base, locale, subscribe, focus }: LayersPanelProps) {
  const m = layersMessages(locale);
  const [images, setImages] = useState<Image[] | null>(null);
  const [containers, setContainers] = useState<ContainerSummary[]>([]);
  const [selectedRef, setSelectedRef] = useState<string | null>(null);
  const [compareRef, setCompareRef] = useState<string | null>(null);
  const [details, setDetails] = useState<Record<string, Detail>>({});
  const [chosen, setSelection] = useState<Selection>(null);
  const [mode, setMode] = useState<'changes' | 'upto'>('changes');
  const [loaded, setLoaded] = useState<{ url: string; rows: FileRow[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Images the server stopped reading because the learner's engine sent too much, and why.
  const [failed, setFailed] = useState<Record<string, string>>({});
  const [filesFailed, setFilesFailed] = useState<{ url: string; text: string } | null>(null);
  const [search, setSearch] = useState('');
  const [found, setFound] = useState<{ layer: number; change: 'A' | 'M' | 'D' }[] | null>(null);
  const [version, setVersion] = useState(0);

  // A tag follows rebuilds (the new image of `myapp`); an untagged image is known by its id.
  const resolve = useCallback(
    (ref: string | null) =>
      ref && images
        ? images.find((i) => i.id === ref || i.tags.includes(ref) || i.tags.includes(`${ref}:latest`))
        : undefined,
    [images],
  );
  const selected = resolve(selectedRef) ?? images?.[0];
  const compared = resolve(compareRef);
  // A choice that does not exist in the image shown now (layer 4 of an image with three, a removed
  // container) is no choice: the file panel asks for one instead of loading forever.
  const selection =
    chosen?.kind === 'layer'
      ? selected && chosen.layer < selected.diffIds.length
        ? chosen
        : null
      : chosen?.kind === 'container'
        ? containers.some((c) => c.id === chosen.id)
          ? chosen
          : null
        : null;

  const loadImages = useCallback(async () => {
    try {
      const r = await api<EngineContents>('GET', `${base}/images`);
      r.images.sort((a, b) => b.created - a.created);
      setImages(r.images);
      setContainers(r.containers);
      setError(null);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(failureText(m, err));
    }
  }, [base, m]);

  useEffect(() => {
    void loadImages();
    return subscribe(() => void loadImages());
  }, [subscribe, loadImages]);

  useEffect(() => {
    if (!focus?.image) return;
    // A lesson link shows its image afresh: no comparison or layer of the one before.
    setSelectedRef(focus.image);
    setCompareRef(null);
    setSelection(focus.layer !== undefined ? { kind: 'layer', layer: focus.layer } : null);
  }, [focus]);

  // The instant view first (history and layer ids), then the figures that need the layers' files.
  const requested = useRef(new Set<string>());
  const loadDetail = useCallback(
    async (image: Image) => {
      // Image ids are content digests: an image's layers never change, so each is fetched once.
      if (requested.current.has(image.id)) return;
      requested.current.add(image.id);
      try {
        const instant = await api<InstantView>('GET', `${base}/images/${image.id}/layers`);
        setDetails((d) => ({ ...d, [image.id]: { ...instant, summary: d[image.id]?.summary } }));
        const full = await api<FullView>('GET', `${base}/images/${image.id}/analysis`);
        setDetails((d) => ({
          ...d,
          [image.id]: {
            rows: full.rows,
            diffIds: full.diffIds,
            summary: {
              totalBytes: full.totalBytes,
              wastedBytes: full.wastedBytes,
              efficiency: full.efficiency,
              layers: full.layers,
            },
          },
        }));
      } catch (err) {
        // The same image would send the same again (its id is its content): it is not asked for again.
        if (isEngineLimit(err)) {
          setFailed((f) => ({ ...f, [image.id]: failureText(m, err) }));
          return;
        }
        requested.current.delete(image.id);
        // A 404 is an image removed meanwhile; the list refreshes by itself.
        if (!(err instanceof ApiError && err.status === 404)) setError(failureText(m, err));
      }
    },
    [base, m],
  );
  useEffect(() => {
    if (selected) void loadDetail(selected);
    if (compared) void loadDetail(compared);
  }, [selected, compared, loadDetail, version]);

  // The files of the chosen layer or container. A layer's files never change (image ids are content
  // digests), so engine events refetch only a container's; the last list stays up while the next loads.
  // An image the server stopped reading has no layer files to fetch.
  const imageFailure = selected ? failed[selected.id] : undefined;
  const filesUrl =
    selection && selected
      ? selection.kind === 'layer'
        ? imageFailure
          ? null
          : `${base}/images/${selected.id}/layers/${selection.layer}/files?mode=${mode}`
        : `${base}/containers/${selection.id}/changes`
      : null;
  const refresh = selection?.kind === 'container' ? version : 0;
  useEffect(() => {
    if (!filesUrl) return;
    let cancelled = false;
    void api<LayerFiles | ContainerChanges>('GET', filesUrl)
      .then((r) => {
        if (cancelled) return;
        const rows: FileRow[] =
          'files' in r ? r.files : r.changes.map((c) => ({ path: c.path.replace(/^\//, ''), size: 0, change: c.kind }));
        setLoaded({ url: filesUrl, rows });
      })
      .catch((err: unknown) => !cancelled && setFilesFailed({ url: filesUrl, text: failureText(m, err) }));
    return () => {
      cancelled = true;
    };
  }, [filesUrl, refresh, m]);
  const files = loaded && loaded.url === filesUrl ? loaded.rows : null;
  const filesError =
    selection?.kind === 'layer' && imageFailure
      ? imageFailure
      : filesFailed && filesFailed.url === filesUrl
        ? filesFailed.text
        : null;

  const findPath = async () => {
    if (!selected || !search.trim()) return;
    if (imageFailure) {
      setError(imageFailure);
      return;
    }
    try {
      const r = await api<PathHistory>(
        'GET',
        `${base}/images/${selected.id}/paths?path=${encodeURIComponent(search.trim())}`,
      );
      setFound(r.history);
    } catch (err) {
      if (isEngineLimit(err)) setFailed((f) => ({ ...f, [selected.id]: failureText(m, err) }));
      else setError(failureText(m, err));
    }
  };

  // Which layers each image shares with the others, for badges and highlights.
  const holders = useMemo(() => {
    const map = new Map<string, Set<string>>();
    for (const img of images ?? []) for (const d of img.diffIds) map.set(d, (map.get(d) ?? new Set()).add(img.id));
    return map;
  }, [images]);
  const sharingWith = (img: Image) =>
    new Set(img.diffIds.flatMap((d) => [...(holders.get(d) ?? [])]).filter((id) => id !== img.id)).size;

  if (error && !images)
    return (
      <p className="banner banner-error" role="alert">
        {error}
      </p>
    );
  if (!images) return <p className="muted pad">…</p>;
  if (images.length === 0)
    return (
      <p className="muted pad" data-testid="layers-empty">
        {m.noImages}
      </p>
    );

  const detail = selected ? details[selected.id] : undefined;
  const compareDetail = compared ? details[compared.id] : undefined;
  const sharedCount = selected && compared ? selected.diffIds.filter((d, i) => compared.diffIds[i] === d).length : 0;

  return (
    <div className="layers" data-testid="layers">
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <section className="image-list" aria-label={m.images}>
        <ul>
          {images.map((img) => {
            const n = sharingWith(img);
            return (
              <li key={img.id}>
                <button
                  type="button"
                  aria-pressed={img.id === selected?.id}
                  data-image={nameOf(img)}
                  onClick={() => {
                    setSelectedRef(img.tags[0] ?? img.id);
                    setCompareRef(null);
                    setSelection(null);
                    setFound(null);
                  }}
                >
                  <strong>{nameOf(img)}</strong> <span className="muted small">{formatBytes(img.size)}</span>
                  {n > 0 && <span className="badge">{m.sharedBadge(n)}</span>}
                </button>
              </li>
            );
          })}
        </ul>
      </section>
      <div className="layers-body">
        <section className="stacks">
          <div className="stacks-bar">
            <label>
              {m.compareWith}{' '}
              <select value={compared?.id ?? ''} onChange={(e) => setCompareRef(e.target.value || null)}>
                <option value="">{m.none}</option>
                {images
                  .filter((i) => i.id !== selected?.id)
                  .map((i) => (
                    <option key={i.id} value={i.id}>
                      {nameOf(i)}
                    </option>
                  ))}
              </select>
            </label>
          </div>
          {selected && compared && (
            <p className="small" role="status">
              {m.shares(sharedCount, selected.diffIds.length, compared.diffIds.length)}
            </p>
          )}
          <div className="stack-columns">
            {selected && (
              <LayerStack
                image={selected}
                detail={detail}
                failure={failed[selected.id]}
                m={m}
                holders={holders}
                images={images}
                highlight={compared ? new Set(compared.diffIds) : undefined}
                containers={containers.filter(
                  (c) =>
                    c.image === selected.id || selected.tags.some((t) => t === c.image || t === `${c.image}:latest`),
                )}
                selection={selection}
                onSelect={setSelection}
              />
            )}
            {compared && (
              <LayerStack
                image={compared}
                detail={compareDetail}
                failure={failed[compared.id]}
                m={m}
                holders={holders}
                images={images}
                highlight={new Set(selected?.diffIds ?? [])}
                containers={[]}
                selection={null}
                onSelect={() => undefined}
              />
            )}
          </div>
          {detail?.summary ? (
            <p className="small muted">
              {m.summary(
                formatBytes(detail.summary.totalBytes),
                formatBytes(detail.summary.wastedBytes),
                `${(detail.summary.efficiency * 100).toFixed(1)} %`,
              )}
            </p>
          ) : imageFailure ? (
            // Without the layers at all, the stack shows it instead.
            detail && (
              <p className="banner banner-error" role="alert" data-testid="layers-stopped">
                {imageFailure}
              </p>
            )
          ) : (
            <p className="small muted" role="status">
              {m.indexing}
            </p>
          )}
          <form
            className="path-search"
            onSubmit={(e) => {
              e.preventDefault();
              void findPath();
            }}
          >
            <label>
              {m.searchPath}
              <input
                type="search"
                value={search}
                placeholder="/usr/bin/python3"
                onChange={(e) => setSearch(e.target.value)}
              />
            </label>
            <button type="submit" className="small-button">
              {m.searchButton}
            </button>
            {found && (
              <ul className="found" aria-live="polite">
                {found.length === 0 && <li>{m.notFound}</li>}
                {found.map((f) => (
                  <li key={`${f.layer}${f.change}`}>
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => setSelection({ kind: 'layer', layer: f.layer })}
                    >
                      {m.searchResult(f.layer, m.change[f.change])}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </form>
        </section>
        <section className="layer-files" aria-live="off">
          {!selection ? (
            <p className="muted pad">{m.chooseLayer}</p>
          ) : (
            <>
              <h3>
                {selection.kind === 'layer' ? m.files(String(selection.layer)) : m.containerFiles(selection.name)}
              </h3>
              {selection.kind === 'layer' && (
                <fieldset className="mode">
                  <legend className="visually-hidden">{m.files(String(selection.layer))}</legend>
                  <label>
                    <input
                      type="radio"
                      name="layer-mode"
                      checked={mode === 'changes'}
                      onChange={() => setMode('changes')}
                    />{' '}
                    {m.onlyChanges}
                  </label>
                  <label>
                    <input type="radio" name="layer-mode" checked={mode === 'upto'} onChange={() => setMode('upto')} />{' '}
                    {m.upTo}
                  </label>
                </fieldset>
              )}
              {filesError && !files ? (
                <p className="banner banner-error" role="alert">
                  {filesError}
                </p>
              ) : files ? (
                <FileList
                  files={files}
                  m={m}
                  label={
                    selection.kind === 'layer' ? m.files(String(selection.layer)) : m.containerFiles(selection.name)
                  }
                />
              ) : (
                <p className="muted pad" role="status">
                  {m.indexing}
                </p>
              )}
            </>
          )}
        </section>
      </div>
    </div>
  );
}

function LayerStack({
  image,
  detail,
  failure,
  m,
  holders,
  images,
  highlight,
  containers,
  selection,
  onSelect,
}: {
  image: Image;
  detail: Detail | undefined;
  /** Why the server stopped reading this image, if it did. */
  failure?: string;
  m: LayersMessages;
  holders: Map<string, Set<string>>;
  images: Image[];
  highlight?: Set<string>;
  containers: ContainerSummary[];
  selection: Selection;
  onSelect: (s: Selection) => void;
}) {
  if (!detail)
    return failure ? (
      <p className="banner banner-error" role="alert" data-testid="layers-stopped">
        {failure}
      </p>
    ) : (
      <p className="muted small">…</p>
    );
  const max = Math.max(1, ...detail.rows.map((r) => r.size), ...containers.map((c) => c.sizeRw));
  // Layers with files are numbered as the engine numbers them (RootFS.Layers), bottom first.
  let n = -1;
  const rows = detail.rows.map((r) => ({ ...r, layer: r.emptyLayer ? null : (n += 1) }));
  const nameFor = (id: string) => images.find((i) => i.id === id);
  return (
    <ol className="stack" aria-label={m.stack(nameOf(image))} reversed>
      {containers.map((c) => (
        <li key={c.id}>
          <button
            type="button"
            className="layer-bar rw"
            aria-pressed={selection?.kind === 'container' && selection.id === c.id}
            onClick={() => onSelect({ kind: 'container', id: c.id, name: c.name })}
          >
            <span className="bar" style={{ width: `${Math.max(2, (c.sizeRw / max) * 100)}%` }} />
            <span className="layer-text">{m.rwLayer(c.name)}</span>
            <span className="layer-size">{formatBytes(c.sizeRw)}</span>
          </button>
        </li>
      ))}
      {[...rows].reverse().map((r) => {
        const others = r.diffId ? [...(holders.get(r.diffId) ?? [])].filter((id) => id !== image.id) : [];
        const shared = others.length > 0;
        const hl = r.diffId && highlight?.has(r.diffId);
        const what = instruction(r.createdBy);
        const stats = r.layer !== null ? detail.summary?.layers[r.layer] : undefined;
        if (r.layer === null)
          return (
            <li key={r.index} className="layer-empty">
              <span className="layer-text" title={r.createdBy}>
                {what}
              </span>
              <span className="muted small">{m.metadata}</span>
            </li>
          );
        return (
          <li key={r.index}>
            <button
              type="button"
              className={`layer-bar${shared ? ' shared' : ''}${hl ? ' highlight' : ''}`}
              aria-pressed={selection?.kind === 'layer' && selection.layer === r.layer}
              aria-label={m.layerLabel(r.layer, formatBytes(r.size), what)}
              data-layer={r.layer}
              data-diff-id={r.diffId ?? ''}
              onClick={() => onSelect({ kind: 'layer', layer: r.layer! })}
            >
              <span className="bar" style={{ width: `${Math.max(2, (r.size / max) * 100)}%` }} />
              <span className="layer-num">{r.layer}</span>
              <span className="layer-text" title={r.createdBy}>
                {r.diffId === '(missing)' ? m.missing : what}
              </span>
              <span className="layer-size">{formatBytes(r.size)}</span>
              {shared && (
                <span
                  className="badge"
                  title={m.sharedWith(others.map((id) => (nameFor(id) ? nameOf(nameFor(id)!) : id)).join(', '))}
                >
                  {m.sharedLayer}
                </span>
              )}
              {stats && (
                <span className="layer-stats small">
                  +{stats.added.count} ~{stats.modified.count} −{stats.deleted.count}
                </span>
              )}
            </button>
          </li>
        );
      })}
    </ol>
  );
}
