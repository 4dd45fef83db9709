// The Layers tab's words, in every supported language.
import type { Locale } from '@dockside/lessons';
import { ApiError } from '../../lib/api';
import { formatBinary } from './format';

const messages = {
  en: {
    images: 'Images',
    noImages: 'No images yet. Pull or build one in the terminal and it appears here by itself.',
    sharedBadge: (n: number) => (n === 1 ? 'shares layers with 1 image' : `shares layers with ${n} images`),
    compareWith: 'Compare with',
    none: 'nothing',
    stack: (name: string) => `Layers of ${name}, newest on top`,
    shares: (n: number, a: number, b: number) => `They share ${n} layer${n === 1 ? '' : 's'} (${a} and ${b} in all).`,
    sharedLayer: 'shared',
    sharedWith: (names: string) => `also in ${names}`,
    metadata: 'no files (metadata only)',
    missing: '(missing)',
    rwLayer: (name: string) => `Container ${name}: its read-write layer`,
    summary: (total: string, wasted: string, eff: string) =>
      `${total} in layers · ${wasted} wasted · efficiency ${eff}`,
    indexing: 'Reading the layers’ files…',
    files: (n: string) => `Files of layer ${n}`,
    containerFiles: (name: string) => `Changes in container ${name}`,
    chooseLayer: 'Choose a layer to see its files.',
    onlyChanges: 'Only its changes',
    upTo: 'Whole filesystem up to here',
    filter: 'Filter by path',
    sortBy: 'Sort by',
    sortPath: 'path',
    sortSize: 'size',
    count: (shown: number, all: number) => (shown === all ? `${all} entries` : `${shown} of ${all} entries`),
    change: { A: 'added', M: 'modified', D: 'deleted', C: 'changed' },
    fromLayer: (n: number) => `from layer ${n}`,
    searchPath: 'Which layer touched a path?',
    searchButton: 'Search',
    searchResult: (n: number, what: string) => `Layer ${n}: ${what}`,
    notFound: 'No layer of this image has that path.',
    error: (msg: string) => `The Layers view could not load: ${msg}`,
    layerLabel: (n: number, size: string, what: string) => `Layer ${n}, ${size}: ${what}`,
    // What the learner's engine sent too much of (the server stopped reading there), by limit.
    stopped: (what: string) => `The Layers view stopped reading this image: ${what}.`,
    limits: {
      bytes: (max: string) => `its export is larger than ${max}`,
      entries: (max: string) => `it has more than ${max} files`,
      layers: (max: string) => `it has more than ${max} layers`,
      json: (max: string) => `a JSON file in its export is larger than ${max}`,
      path: (max: string) => `a file path in it is longer than ${max} characters`,
      names: (max: string) => `its file names add up to more than ${max}`,
      answer: (max: string) => `an answer from your engine was larger than ${max}`,
      time: (max: string) => `your engine took longer than ${max} to send it`,
      idle: (max: string) => `your engine sent nothing for ${max} while sending it`,
    },
    duration: (ms: number) => (ms >= 120_000 ? `${Math.round(ms / 60_000)} minutes` : `${Math.round(ms / 1000)} s`),
  },
  ko: {
    images: '이미지',
    noImages: '아직 이미지가 없습니다. 터미널에서 이미지를 받거나 빌드하면 여기에 바로 나타납니다.',
    sharedBadge: (n: number) => `이미지 ${n}개와 레이어 공유`,
    compareWith: '비교할 이미지',
    none: '없음',
    stack: (name: string) => `${name}의 레이어 (위가 최신)`,
    shares: (n: number, a: number, b: number) => `레이어 ${n}개를 공유합니다 (전체 ${a}개, ${b}개).`,
    sharedLayer: '공유',
    sharedWith: (names: string) => `${names}에도 있음`,
    metadata: '파일 없음 (메타데이터만)',
    missing: '(없음)',
    rwLayer: (name: string) => `컨테이너 ${name}: 읽기-쓰기 레이어`,
    summary: (total: string, wasted: string, eff: string) => `레이어 합계 ${total} · 낭비 ${wasted} · 효율 ${eff}`,
    indexing: '레이어의 파일을 읽는 중…',
    files: (n: string) => `레이어 ${n}의 파일`,
    containerFiles: (name: string) => `컨테이너 ${name}의 변경 사항`,
    chooseLayer: '레이어를 고르면 파일이 보입니다.',
    onlyChanges: '이 레이어의 변경만',
    upTo: '여기까지의 전체 파일 시스템',
    filter: '경로로 거르기',
    sortBy: '정렬',
    sortPath: '경로',
    sortSize: '크기',
    count: (shown: number, all: number) => (shown === all ? `${all}개 항목` : `${all}개 중 ${shown}개 항목`),
    change: { A: '추가', M: '수정', D: '삭제', C: '변경' },
    fromLayer: (n: number) => `레이어 ${n}에서`,
    searchPath: '어느 레이어가 이 경로를 바꿨나요?',
    searchButton: '찾기',
    searchResult: (n: number, what: string) => `레이어 ${n}: ${what}`,
    notFound: '이 이미지의 어떤 레이어에도 그 경로가 없습니다.',
    error: (msg: string) => `레이어 보기를 불러오지 못했습니다: ${msg}`,
    layerLabel: (n: number, size: string, what: string) => `레이어 ${n}, ${size}: ${what}`,
    stopped: (what: string) => `레이어 보기가 이 이미지를 읽다가 멈췄습니다. ${what}.`,
    limits: {
      bytes: (max: string) => `이미지를 내보낸 크기가 ${max}보다 큽니다`,
      entries: (max: string) => `이미지에 든 파일이 ${max}개보다 많습니다`,
      layers: (max: string) => `이미지의 레이어가 ${max}개보다 많습니다`,
      json: (max: string) => `내보낸 이미지 안의 JSON 파일 하나가 ${max}보다 큽니다`,
      path: (max: string) => `이미지 안의 파일 경로 하나가 ${max}자보다 깁니다`,
      names: (max: string) => `파일 이름을 모두 더한 크기가 ${max}보다 큽니다`,
      answer: (max: string) => `엔진이 보낸 응답 하나가 ${max}보다 큽니다`,
      time: (max: string) => `엔진이 이미지를 보내는 데 ${max}보다 오래 걸렸습니다`,
      idle: (max: string) => `엔진이 이미지를 보내다가 ${max} 동안 아무것도 보내지 않았습니다`,
    },
    duration: (ms: number) => (ms >= 120_000 ? `${Math.round(ms / 60_000)}분` : `${Math.round(ms / 1000)}초`),
  },
} as const;

export type LayersMessages = (typeof messages)[Locale];
export const layersMessages = (locale: Locale): LayersMessages => messages[locale];

type EngineLimit = keyof LayersMessages['limits'];
const BYTES: EngineLimit[] = ['bytes', 'json', 'names', 'answer'];

/** An engine_limit answer (the server says which limit and its value): permanent for that image. */
export const isEngineLimit = (err: unknown): err is ApiError => err instanceof ApiError && err.code === 'engine_limit';

/** A failed call in the panel's words: what the learner's engine sent too much of, or the server's message. */
export function failureText(m: LayersMessages, err: unknown): string {
  if (isEngineLimit(err)) {
    const { limit, max } = (err.body ?? {}) as { limit?: unknown; max?: unknown };
    if (typeof limit === 'string' && Object.hasOwn(m.limits, limit) && typeof max === 'number') {
      const key = limit as EngineLimit;
      const value = BYTES.includes(key)
        ? formatBinary(max)
        : key === 'time' || key === 'idle'
          ? m.duration(max)
          : max.toLocaleString('en-US');
      return m.stopped(m.limits[key](value));
    }
  }
  return m.error(err instanceof Error ? err.message : String(err));
}
