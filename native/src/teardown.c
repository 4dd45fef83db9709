/* Ending a sandbox: `stop` lets pid 1 shut the engine down cleanly and keeps the files; `destroy` (and a
 * failed `create`) kills everything at once and leaves nothing: processes, cgroups, state, disk. */
#include "sandbox.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

/* Whether pid 1 is gone within `tenths` of a second. */
static bool wait_gone(const state_t *st, int tenths) {
  for (int i = 0; i < tenths; i++) {
    if (!state_running(st)) return true;
    nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
  }
  return !state_running(st);
}

/* A signal to pid 1, which state_running has just seen alive: only its exit in between may fail it. */
static void signal_init(const state_t *st, int sig) {
  if (kill(st->pid, sig) < 0 && errno != ESRCH) die_with_error("signal pid 1 (%d) of sandbox %s", (int)st->pid, st->id);
}

/* Stops pid 1 (which shuts the engine down cleanly), then kills whatever is left. */
static void stop_sandbox(state_t *st) {
  if (state_running(st)) {
    signal_init(st, SIGTERM);
    if (!wait_gone(st, 200)) signal_init(st, SIGKILL);
    wait_gone(st, 50);
  }
  st->pid = 0;
  st->started = 0;
}

/* Destroying throws everything away: no graceful engine shutdown, every process killed at once. */
void sandbox_teardown(const char *id) {
  state_t st;
  if (state_load(id, &st) && state_running(&st)) {
    signal_init(&st, SIGKILL);
    wait_gone(&st, 50);
  }
  cgroups_kill_and_remove(id);
  /* Mounts lived only in the sandbox's namespaces; the loop device detaches itself with the last one. */
  cleanup_free char *dir = sandbox_dir(id);
  remove_tree(dir);
}

int cmd_stop(int argc, char **argv) {
  if (argc != 2) die_with_code(EXIT_USAGE, "stop takes one sandbox id");
  state_t st = loaded_sandbox(checked_id(argv[1]));
  stop_sandbox(&st);
  cgroups_kill_and_remove(st.id);
  state_save(&st);
  return 0;
}

int cmd_destroy(int argc, char **argv) {
  if (argc != 2) die_with_code(EXIT_USAGE, "destroy takes one sandbox id");
  const char *id = checked_id(argv[1]);
  cleanup_free char *dir = sandbox_dir(id);
  if (!path_exists(dir)) die_with_code(EXIT_NOT_FOUND, "no sandbox %s", id);
  sandbox_teardown(id);
  if (path_exists(dir)) die("could not remove %s (see the messages above)", dir);
  return 0;
}
