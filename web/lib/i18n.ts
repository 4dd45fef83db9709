// UI strings in every supported language, and how a request picks one.
import type { Locale } from '@dockside/lessons';

export const LOCALE_COOKIE = 'dockside_lang';

/** In the browser: remembers a language for a year; `unlessChosen` keeps an earlier choice. */
export function rememberLocale(locale: Locale, { unlessChosen = false } = {}): void {
  if (unlessChosen && document.cookie.split('; ').some((c) => c.startsWith(`${LOCALE_COOKIE}=`))) return;
  document.cookie = `${LOCALE_COOKIE}=${locale}; Path=/; Max-Age=31536000; SameSite=Lax`;
}

const messages = {
  en: {
    tagline: 'Learn containers by doing: a real Docker Engine of your own, right in the browser.',
    lessons: 'Lessons',
    minutes: (n: number) => `${n} min`,
    steps: (n: number) => (n === 1 ? '1 step' : `${n} steps`),
    level: { beginner: 'Beginner', intermediate: 'Intermediate', advanced: 'Advanced' },
    language: 'Language',
    start: 'Start',
    noLessons: 'No lessons are installed yet.',
    home: 'All lessons',
    joinWorkshopLink: 'Join a workshop with a code',
    instructorLink: 'Instructors: sign in',
    progress: (done: number, total: number) => `${done} of ${total} steps done`,
    continueTitle: 'Continue where you left off',
    continueAction: (lesson: string, step: string) => `${lesson} — ${step}`,
    notStarted: 'Not started',
    completed: 'Completed',
    stepList: 'Steps',
    stepOf: (n: number, total: number) => `Step ${n} of ${total}`,
    previous: 'Previous',
    next: 'Next',
    finish: 'Finish lesson',
    lessonProgress: 'Lesson progress',
    status: {
      pending: 'Not started',
      working: 'In progress',
      passed: 'Done',
      skipped: 'Skipped',
      solved: 'Solved with the solution',
    },
    checks: 'Checks',
    checkStatus: { pending: 'Waiting', passed: 'Passed', failed: 'Not yet' },
    checksHelp: 'Checks run by themselves whenever you run a command or your engine changes.',
    stepDone: 'Step complete — well done!',
    hint: 'Show a hint',
    noMoreHints: 'No more hints',
    solution: 'Show the solution',
    skip: 'Skip this step',
    run: 'Run',
    runLabel: (cmd: string) => `Run in the terminal: ${cmd}`,
    copy: 'Copy',
    copied: 'Copied',
    copyLabel: (cmd: string) => `Copy: ${cmd}`,
    resize: 'Resize the lesson and workspace panels',
    workspace: 'Workspace',
    terminal: (n: number) => `Terminal ${n}`,
    newTerminal: 'New terminal',
    closeTerminal: (n: number) => `Close terminal ${n}`,
    terminalLabel: (n: number) =>
      `Terminal ${n}. Press Escape at the prompt, or Shift+Escape anytime, to leave the terminal.`,
    terminalExited: 'The shell has ended. Press Enter for a new one.',
    editor: 'Editor',
    layers: 'Layers',
    loading: 'Loading…',
    files: 'Files in /workspace',
    noFiles: 'No files yet. Files you create in /workspace appear here.',
    openFile: 'Choose a file to edit.',
    save: 'Save',
    saved: 'Saved',
    unsaved: 'unsaved changes',
    saveHelp: 'Ctrl+S or ⌘S saves',
    conflict: 'This file changed in the sandbox since you opened it.',
    keepMine: 'Overwrite with mine',
    takeTheirs: 'Load the sandbox version',
    fileError: (msg: string) => `Could not open the file: ${msg}`,
    saveError: (msg: string) => `Could not save: ${msg}`,
    refresh: 'Refresh',
    sandbox: 'Sandbox',
    phase: {
      connecting: 'Connecting…',
      queued: 'Waiting for a free seat',
      allocating: 'Preparing your sandbox',
      'starting-engine': 'Starting your Docker Engine',
      ready: 'Ready',
      stopping: 'Stopping',
      stopped: 'Stopped',
      failed: 'Failed to start',
    },
    idleWarning: (t: string) => `Idle: your sandbox stops at ${t} unless you use it.`,
    expiresIn: (t: string) => `Ends in ${t}`,
    reset: 'Reset sandbox',
    resetConfirm:
      'Reset your sandbox? Its images, containers and files are deleted and a fresh one starts. Your lesson progress is kept.',
    resetYes: 'Yes, reset',
    cancel: 'Cancel',
    ports: 'Open ports',
    portLink: (port: number) => `Port ${port}`,
    previewFailed: (msg: string) => `The preview could not be opened: ${msg}`,
    queued: (pos: number, secs: number) =>
      `The machine is full — you are number ${pos} in the queue (about ${secs} s).`,
    startFailed: (msg: string) => `Your sandbox could not start: ${msg}`,
    // A limit per network (server/src/engine/admission.ts); `wait` from waitTime().
    rateLimited: (wait: string) => `Too many sandboxes were started or reset from your network. Try again in ${wait}.`,
    addressLimit: (wait: string) =>
      `Your network already has as many sandboxes as it may. Join your class's workshop with its code, or try again in ${wait}.`,
    waitTime: (secs: number) => (secs < 120 ? `${secs} s` : `${Math.ceil(secs / 60)} min`),
    retry: 'Try again',
    offline: 'Connection lost — reconnecting… your terminal continues where it was.',
    expired: 'Your sandbox has ended. Start a new one — your progress is kept.',
    startAgain: 'Start a new sandbox',
    toastFrom: (from: string) => `Message from ${from}`,
    dismiss: 'Dismiss',
    finishTitle: 'Lesson complete',
    finishSummary: (passed: number, total: number) => `You completed ${passed} of ${total} steps.`,
    backToLessons: 'Back to all lessons',
    review: 'Review the lesson',
    notFound: 'There is no such lesson.',
    catalogueLink: 'Images you can pull',
    catalogueLinkNewTab: 'Images you can pull (opens in a new tab)',
    catalogueTitle: 'Images',
    catalogueIntro:
      'The images your sandbox can pull, under their Docker Hub names (docker pull redis, docker run -d postgres). They are built from Debian packages and behave like the official images in their basic use; other names cannot be pulled here.',
    catalogueTags: 'Tags',
    catalogueLoading: 'Loading the images…',
    catalogueFailed: 'The image list could not be loaded. Reload the page to try again.',
  },
  ko: {
    tagline: '직접 해 보며 배우는 컨테이너: 브라우저 안에서 나만의 실제 Docker Engine을 사용합니다.',
    lessons: '레슨',
    minutes: (n: number) => `${n}분`,
    steps: (n: number) => `${n}단계`,
    level: { beginner: '입문', intermediate: '중급', advanced: '고급' },
    language: '언어',
    start: '시작하기',
    noLessons: '설치된 레슨이 아직 없습니다.',
    home: '모든 레슨',
    joinWorkshopLink: '코드로 워크숍 참여',
    instructorLink: '강사 로그인',
    progress: (done: number, total: number) => `${total}단계 중 ${done}단계 완료`,
    continueTitle: '이어서 학습하기',
    continueAction: (lesson: string, step: string) => `${lesson} — ${step}`,
    notStarted: '시작 전',
    completed: '완료',
    stepList: '단계',
    stepOf: (n: number, total: number) => `${total}단계 중 ${n}단계`,
    previous: '이전',
    next: '다음',
    finish: '레슨 마치기',
    lessonProgress: '레슨 진행률',
    status: { pending: '시작 전', working: '진행 중', passed: '완료', skipped: '건너뜀', solved: '풀이를 보고 완료' },
    checks: '확인 항목',
    checkStatus: { pending: '대기 중', passed: '통과', failed: '아직' },
    checksHelp: '명령을 실행하거나 엔진 상태가 바뀔 때마다 자동으로 확인합니다.',
    stepDone: '단계 완료 — 잘하셨습니다!',
    hint: '힌트 보기',
    noMoreHints: '더 이상 힌트가 없습니다',
    solution: '풀이 보기',
    skip: '이 단계 건너뛰기',
    run: '실행',
    runLabel: (cmd: string) => `터미널에서 실행: ${cmd}`,
    copy: '복사',
    copied: '복사됨',
    copyLabel: (cmd: string) => `복사: ${cmd}`,
    resize: '레슨과 작업 공간 패널 크기 조절',
    workspace: '작업 공간',
    terminal: (n: number) => `터미널 ${n}`,
    newTerminal: '새 터미널',
    closeTerminal: (n: number) => `터미널 ${n} 닫기`,
    terminalLabel: (n: number) => `터미널 ${n}. 프롬프트에서 Esc, 또는 언제든 Shift+Esc를 누르면 터미널에서 나갑니다.`,
    terminalExited: '셸이 끝났습니다. Enter를 누르면 새 셸이 열립니다.',
    editor: '편집기',
    layers: '레이어',
    loading: '불러오는 중…',
    files: '/workspace의 파일',
    noFiles: '아직 파일이 없습니다. /workspace에 만든 파일이 여기에 표시됩니다.',
    openFile: '편집할 파일을 고르세요.',
    save: '저장',
    saved: '저장됨',
    unsaved: '저장하지 않은 변경 사항',
    saveHelp: 'Ctrl+S 또는 ⌘S로 저장',
    conflict: '파일을 연 뒤 샌드박스에서 이 파일이 바뀌었습니다.',
    keepMine: '내 내용으로 덮어쓰기',
    takeTheirs: '샌드박스의 내용 불러오기',
    fileError: (msg: string) => `파일을 열 수 없습니다: ${msg}`,
    saveError: (msg: string) => `저장하지 못했습니다: ${msg}`,
    refresh: '새로 고침',
    sandbox: '샌드박스',
    phase: {
      connecting: '연결하는 중…',
      queued: '빈자리를 기다리는 중',
      allocating: '샌드박스를 준비하는 중',
      'starting-engine': 'Docker Engine을 시작하는 중',
      ready: '준비됨',
      stopping: '멈추는 중',
      stopped: '멈춤',
      failed: '시작 실패',
    },
    idleWarning: (t: string) => `사용하지 않으면 ${t}에 샌드박스가 멈춥니다.`,
    expiresIn: (t: string) => `${t} 후 종료`,
    reset: '샌드박스 초기화',
    resetConfirm:
      '샌드박스를 초기화할까요? 이미지, 컨테이너, 파일이 모두 지워지고 새 샌드박스가 시작됩니다. 레슨 진행 상황은 유지됩니다.',
    resetYes: '네, 초기화합니다',
    cancel: '취소',
    ports: '열린 포트',
    portLink: (port: number) => `포트 ${port}`,
    previewFailed: (msg: string) => `미리보기를 열지 못했습니다: ${msg}`,
    queued: (pos: number, secs: number) => `자리가 모두 찼습니다 — 대기 순서 ${pos}번입니다 (약 ${secs}초).`,
    startFailed: (msg: string) => `샌드박스를 시작하지 못했습니다: ${msg}`,
    rateLimited: (wait: string) =>
      `같은 네트워크에서 샌드박스를 너무 자주 시작하거나 초기화했습니다. ${wait} 후에 다시 시도하세요.`,
    addressLimit: (wait: string) =>
      `이 네트워크에서 쓸 수 있는 샌드박스가 모두 사용 중입니다. 수업의 워크숍 코드로 참여하거나, ${wait} 후에 다시 시도하세요.`,
    waitTime: (secs: number) => (secs < 120 ? `${secs}초` : `${Math.ceil(secs / 60)}분`),
    retry: '다시 시도',
    offline: '연결이 끊겼습니다 — 다시 연결하는 중… 터미널은 하던 곳에서 이어집니다.',
    expired: '샌드박스가 종료되었습니다. 새로 시작하세요 — 진행 상황은 유지됩니다.',
    startAgain: '새 샌드박스 시작',
    toastFrom: (from: string) => `${from}님의 메시지`,
    dismiss: '닫기',
    finishTitle: '레슨 완료',
    finishSummary: (passed: number, total: number) => `${total}단계 중 ${passed}단계를 마쳤습니다.`,
    backToLessons: '레슨 목록으로',
    review: '레슨 다시 보기',
    notFound: '그런 레슨은 없습니다.',
    catalogueLink: '받을 수 있는 이미지',
    catalogueLinkNewTab: '받을 수 있는 이미지 (새 탭에서 열림)',
    catalogueTitle: '이미지',
    catalogueIntro:
      '샌드박스에서 Docker Hub 이름 그대로 받을 수 있는 이미지입니다(docker pull redis, docker run -d postgres). Debian 패키지로 만들었고 기본 사용법에서는 공식 이미지처럼 동작합니다. 그 밖의 이름은 여기서 받을 수 없습니다.',
    catalogueTags: '태그',
    catalogueLoading: '이미지 목록을 불러오는 중…',
    catalogueFailed: '이미지 목록을 불러오지 못했습니다. 페이지를 새로 고쳐 다시 시도하세요.',
  },
} as const;

export type Messages = (typeof messages)[Locale];

export function t(locale: Locale): Messages {
  return messages[locale];
}

/** What the lesson page says for a refusal by a limit (`rate_limited`, `address_limit`), else null. */
export function limitMessage(m: Messages, code: string, retryAfter: unknown): string | null {
  const wait = m.waitTime(typeof retryAfter === 'number' && retryAfter > 0 ? Math.ceil(retryAfter) : 60);
  if (code === 'rate_limited') return m.rateLimited(wait);
  if (code === 'address_limit') return m.addressLimit(wait);
  return null;
}

/** The cookie's choice if any, else the best match in Accept-Language, else English. */
export function pickLocale(cookie: string | undefined, acceptLanguage: string | null): Locale {
  if (cookie === 'en' || cookie === 'ko') return cookie;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^q=([\d.]+)$/.exec(p.trim())?.[1]).find(Boolean);
      return { tag: (tag ?? '').toLowerCase(), q: q ? Number(q) : 1 };
    })
    .filter((x) => x.tag)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    if (tag.startsWith('ko')) return 'ko';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}
