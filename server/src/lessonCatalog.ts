// The lessons, read once at start: every check run, route and dashboard asks for them, and reading every
// lesson file each time cost a check run more than the check. A dev server (NODE_ENV=development) reads
// them again on the first call after a file under the content folder changed, so an author's edit shows
// on the next request, as before, without a restart.
import { watch } from 'node:fs';
import { loadLessons, type Lesson } from '@dockside/lessons';

export function lessonCatalog(dir: string, opts: { reload?: boolean } = {}): () => Lesson[] {
  let lessons = loadLessons(dir);
  if (!opts.reload) return () => lessons;
  let stale = false;
  try {
    watch(dir, { recursive: true, persistent: false }, () => (stale = true)).on('error', () => (stale = true));
  } catch {
    return () => loadLessons(dir); // no watching here (inotify spent): read each time, as before
  }
  return () => {
    if (stale) {
      stale = false;
      try {
        lessons = loadLessons(dir);
      } catch (err) {
        stale = true; // a half-saved edit: say so until it is whole
        throw err;
      }
    }
    return lessons;
  };
}
