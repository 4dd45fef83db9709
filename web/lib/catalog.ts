import { loadLessons, type Lesson } from '@dockside/lessons';

/** The lessons the server process points us at (it sets DOCKSIDE_LESSONS_DIR before serving pages). */
export function catalog(): Lesson[] {
  return loadLessons(process.env.DOCKSIDE_LESSONS_DIR);
}
