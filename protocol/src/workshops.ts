// Workshops as the instructor's pages read them (`/api/workshops/...`).

export type WorkshopView = {
  id: string;
  title: string;
  joinCode: string;
  lessonIds: string[];
  /** Exercises picked from any lesson; the dashboard and results show them after their lesson's steps. */
  exercises: { lessonId: string; exerciseId: string }[];
  seatLimit: number;
  locale: string;
  keepSandboxes: boolean;
  state: 'draft' | 'open' | 'ended';
  durationMinutes: number;
  startsAt: string | null;
  endsAt: string | null;
  openedAt: string | null;
  endedAt: string | null;
  learners: number;
};

/** One workshop for its dashboard: with the join link and its QR code for the projector. */
export type WorkshopDetail = WorkshopView & { joinUrl: string; qrSvg: string };

export type ResultStep = {
  lessonId: string;
  stepId: string;
  status: string;
  startedAt: string | null;
  completedAt: string | null;
  /** From the step's start to its completion; null while not finished. */
  seconds: number | null;
};

export type WorkshopResults = {
  workshop: WorkshopView;
  lessons: {
    id: string;
    title: { en: string; ko: string };
    /** The lesson's steps, then its exercises (id `exercise:<id>`). */
    steps: { id: string; title: { en: string; ko: string } }[];
  }[];
  learners: {
    learnerId: string;
    displayName: string;
    joinedAt: string;
    done: number;
    /** The sum of the finished steps' times. */
    seconds: number;
    steps: ResultStep[];
  }[];
};
