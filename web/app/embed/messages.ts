// The embed's own words (the player's come from lib/i18n): starting, connecting, and what went wrong.
import type { Locale } from '@dockside/lessons';

const messages = {
  en: {
    start: 'Start the sandbox',
    startNote:
      'A small Dockside window opens for a moment, so that this is your own sandbox, with your progress on Dockside.',
    connecting: 'Connecting…',
    popupBlocked:
      'The browser blocked the Dockside window. Allow pop-ups for this page and press Start again, or open it in Dockside.',
    closed: 'The Dockside window closed before it connected. Press Start again.',
    refused: (why: string) => `Dockside did not connect this sandbox: ${why}`,
    noCookies:
      'This browser keeps no cookies for sandboxes embedded in other sites, so it cannot start here. Open it in Dockside instead.',
    openInDockside: 'Open in Dockside ↗',
    sandboxWith: (images: string) => `Sandbox with ${images}`,
    sandbox: 'Sandbox',
    exercise: 'Exercise',
  },
  ko: {
    start: '샌드박스 시작',
    startNote:
      '작은 Dockside 창이 잠깐 열립니다. 그래서 이 샌드박스는 Dockside에서의 진행 상황이 그대로 있는 내 샌드박스입니다.',
    connecting: '연결하는 중…',
    popupBlocked:
      '브라우저가 Dockside 창을 막았습니다. 이 페이지의 팝업을 허용하고 다시 시작을 누르거나, Dockside에서 여세요.',
    closed: 'Dockside 창이 연결되기 전에 닫혔습니다. 다시 시작을 누르세요.',
    refused: (why: string) => `Dockside가 이 샌드박스를 연결하지 않았습니다: ${why}`,
    noCookies:
      '이 브라우저는 다른 사이트에 들어 있는 샌드박스의 쿠키를 저장하지 않아 여기서 시작할 수 없습니다. Dockside에서 여세요.',
    openInDockside: 'Dockside에서 열기 ↗',
    sandboxWith: (images: string) => `${images} 이미지가 있는 샌드박스`,
    sandbox: '샌드박스',
    exercise: '실습 과제',
  },
} satisfies Record<Locale, Record<string, unknown>>;

export type EmbedMessages = (typeof messages)[Locale];

export const embedMessages = (locale: Locale): EmbedMessages => messages[locale];
