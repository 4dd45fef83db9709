// The Layers tab's API (`/api/sandboxes/ID/...`): a learner's images and containers, an image's layers,
// one layer's files, and which layers touched a path.

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

/** `GET .../images`: one image of the learner's engine. */
export type ImageSummary = { id: string; tags: string[]; size: number; created: number; diffIds: string[] };
/** `GET .../images`: one container, with its writable layer's size. */
export type ContainerSummary = {
  id: string;
  name: string;
  image: string;
  state: string;
  sizeRw: number;
  sizeRootFs: number;
};
export type EngineContents = { images: ImageSummary[]; containers: ContainerSummary[] };

export type LayerRow = {
  /** Position in the history, oldest first. */
  index: number;
  /** The layer's diffID, null for metadata-only steps, "(missing)" when history and layers disagree. */
  diffId: string | null;
  createdBy: string;
  created: string | null;
  size: number;
  emptyLayer: boolean;
  comment?: string;
};

/** `GET .../images/IMAGE/layers`: history and layer ids, without reading the layers' files. */
export type InstantView = {
  id: string;
  tags: string[];
  size: number;
  created: string;
  rows: LayerRow[];
  diffIds: string[];
  /** Whether `rows` pair steps with layers for sure (from the image config, or unambiguous history). */
  certain: boolean;
};

export type LayerStats = {
  added: { count: number; bytes: number };
  modified: { count: number; bytes: number };
  deleted: { count: number; bytes: number };
  /** Bytes this layer contributes that a later layer overwrites or deletes. */
  wastedBytes: number;
};

/** `GET .../images/IMAGE/analysis`: the instant view with each layer's figures, its waste and efficiency. */
export type FullView = InstantView & {
  layers: (LayerStats & { diffId: string })[];
  totalBytes: number;
  wastedBytes: number;
  efficiency: number;
};

/** One path as the Layers tab lists it: who wrote it, and what the selected layer did to it. */
export type LayerFile = {
  path: string;
  type: EntryType;
  size: number;
  /** The layer that last wrote it (for a deletion: the layer whose copy was deleted). */
  layer: number;
  change: 'A' | 'M' | 'D' | null;
  linkTarget?: string;
};

/** `GET .../images/IMAGE/layers/N/files`: the layer's own changes, or the filesystem as it stands after it. */
export type LayerFiles = { layer: number; mode: 'changes' | 'upto'; files: LayerFile[] };

/** A layer that added, modified or deleted a path. */
export type PathChange = { layer: number; change: 'A' | 'M' | 'D' };
/** `GET .../images/IMAGE/paths?path=P`. */
export type PathHistory = { path: string; history: PathChange[] };

/** `GET .../containers/C/changes`: a container's thin writable layer. */
export type ContainerChanges = {
  id: string;
  name: string;
  image: string;
  sizeRw: number;
  sizeRootFs: number;
  changes: { path: string; kind: 'A' | 'C' | 'D' }[];
};
