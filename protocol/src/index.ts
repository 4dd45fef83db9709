// What the browser and the server say to each other: the socket events, the API's answers, and the
// pure helpers both sides use. Nothing here does I/O or needs Node.js: the browser bundles it.
export { type CheckResultView, type CheckStatus, type ChecksResult, isStepDone, type StepStatus } from './checks';
export type { CellState, DashboardLearner, DashboardSnapshot } from './dashboard';
export { DISPLAY_NAME_MAX, displayName } from './displayName';
export type {
  Ack,
  AckError,
  ClientToServerEvents,
  InstructorClientToServerEvents,
  InstructorServerToClientEvents,
  OpenedTerminal,
  ServerToClientEvents,
  TerminalOpen,
  EnsureAnswer,
  EnsureRequest,
  SocketAuth,
  SocketQuery,
} from './events';
export type {
  ContainerChanges,
  ContainerSummary,
  EngineContents,
  EntryType,
  FullView,
  ImageSummary,
  InstantView,
  LayerFile,
  LayerFiles,
  LayerRow,
  LayerStats,
  PathChange,
  PathHistory,
} from './layers';
export { isSandboxId, SANDBOX_ID, type SandboxPhase, type SandboxView } from './sandbox';
export { median } from './stats';
export type { ResultStep, WorkshopDetail, WorkshopResults, WorkshopView } from './workshops';
export type { CatalogueImage, Localized } from './catalogue';
export { columnLabels, exerciseOfStepId, exercisePath, exerciseStepId, type ExerciseProgress } from './exercises';
