// The exercise view's own words, in every supported language (the player's shared ones are lib/i18n.ts).
import type { Locale } from '@dockside/lessons';

const messages = {
  en: {
    exercise: 'Exercise',
    exercises: 'Exercises',
    goal: 'Goal',
    preparing: 'Preparing the exercise',
    prepareFailed: (message: string) => `The exercise could not be prepared: ${message}`,
    tryAgain: 'Try again',
    resetExercise: 'Start the exercise over',
    resetConfirm: 'Start over? The exercise’s containers and files in its folder are made again as they were.',
    done: 'Exercise complete — you reached the goal.',
    timeLeft: (text: string) => `Time left: ${text}`,
    timeUp: 'Your time budget is spent. Nothing is lost: keep going as long as you like.',
    budget: (minutes: number) => `Time budget: ${minutes} min`,
    backToLesson: 'Back to the lesson',
    hintOf: (n: number, total: number) => `Hint ${n} of ${total}`,
  },
  ko: {
    exercise: '연습 문제',
    exercises: '연습 문제',
    goal: '목표',
    preparing: '연습 문제 준비 중',
    prepareFailed: (message: string) => `연습 문제를 준비하지 못했습니다: ${message}`,
    tryAgain: '다시 시도',
    resetExercise: '연습 문제 처음부터 다시',
    resetConfirm: '처음부터 다시 할까요? 연습 문제의 컨테이너와 폴더의 파일이 처음 상태로 다시 만들어집니다.',
    done: '연습 문제 완료 — 목표에 도달했습니다.',
    timeLeft: (text: string) => `남은 시간: ${text}`,
    timeUp: '제한 시간이 지났습니다. 잃는 것은 없으니 원하는 만큼 계속하세요.',
    budget: (minutes: number) => `제한 시간: ${minutes}분`,
    backToLesson: '레슨으로 돌아가기',
    hintOf: (n: number, total: number) => `힌트 ${n} / ${total}`,
  },
} satisfies Record<Locale, unknown>;

export type ExerciseMessages = (typeof messages)[Locale];
export const exerciseMessages = (locale: Locale): ExerciseMessages => messages[locale];
