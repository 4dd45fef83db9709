/* dockside-sandbox: the only privileged program of Dockside. Every argument is validated; no path
 * comes from the caller; the environment is scrubbed. See native/README.md for commands and exit codes. */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int create_sandbox(const char *id, unsigned range, const limits_t *limits);

static const char usage[] =
    "usage: dockside-sandbox create ID --range N [--memory 1G] [--pids 2048] [--cpus 1.0] [--disk 8G]\n"
    "       dockside-sandbox exec [-t] [--cwd DIR] [--env K=V]... ID -- CMD...\n"
    "       dockside-sandbox session [--cols N] [--rows N] [--cwd DIR] [--env K=V]... ID NAME -- CMD...\n"
    "       dockside-sandbox connect ID PORT\n"
    "       dockside-sandbox file [--under DIR] ID list|read|write|create|rename|remove PATH...\n"
    "       dockside-sandbox stop ID | destroy ID | inspect ID --json | list --json\n";

__attribute__((noreturn)) static void bad_usage(const char *why) {
  die_with_code(EXIT_USAGE, "%s\n%s", why, usage);
}

static const char *checked_id(const char *id) {
  if (!id) bad_usage("missing sandbox id");
  if (!valid_id(id)) die_with_code(EXIT_USAGE, "invalid sandbox id \"%.60s\": use [a-z0-9][a-z0-9-]{0,39}", id);
  return id;
}

/* "512M", "8G", "100K" or bytes; within [min, max]. */
static uint64_t parse_size(const char *flag, const char *v, uint64_t min, uint64_t max) {
  char *end;
  errno = 0;
  unsigned long long n = v ? strtoull(v, &end, 10) : 0;
  if (!v || errno || end == v || v[0] == '-') die_with_code(EXIT_USAGE, "%s needs a size such as 512M or 8G", flag);
  uint64_t mult = 1;
  if (*end == 'K' || *end == 'k') mult = 1ull << 10, end++;
  else if (*end == 'M' || *end == 'm') mult = 1ull << 20, end++;
  else if (*end == 'G' || *end == 'g') mult = 1ull << 30, end++;
  if (*end || n > max / mult || n * mult < min || n * mult > max)
    die_with_code(EXIT_USAGE, "%s %s is out of range", flag, v);
  return n * mult;
}

static unsigned long parse_uint(const char *flag, const char *v, unsigned long min, unsigned long max) {
  char *end;
  errno = 0;
  unsigned long n = v ? strtoul(v, &end, 10) : 0;
  if (!v || errno || end == v || *end || v[0] == '-' || n < min || n > max)
    die_with_code(EXIT_USAGE, "%s needs a whole number from %lu to %lu", flag, min, max);
  return n;
}

static int cmd_create(int argc, char **argv) {
  const char *id = NULL;
  unsigned range = 0;
  limits_t l = {.memory_bytes = 1ull << 30, .pids = 2048, .cpus = 1.0, .disk_bytes = 8ull << 30};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--range")) range = (unsigned)parse_uint(a, v, 1, MAX_RANGE), i++;
    else if (!strcmp(a, "--memory")) l.memory_bytes = parse_size(a, v, 64ull << 20, 256ull << 30), i++;
    else if (!strcmp(a, "--pids")) l.pids = parse_uint(a, v, 64, 1u << 22), i++;
    else if (!strcmp(a, "--disk")) l.disk_bytes = parse_size(a, v, 256ull << 20, 2048ull << 30), i++;
    else if (!strcmp(a, "--cpus")) {
      char *end;
      l.cpus = v ? strtod(v, &end) : 0;
      if (!v || *end || !(l.cpus >= 0.01 && l.cpus <= 1024)) die_with_code(EXIT_USAGE, "--cpus needs a number such as 1.0");
      i++;
    } else if (a[0] == '-') die_with_code(EXIT_USAGE, "unknown option %.40s", a);
    else if (!id) id = checked_id(a);
    else bad_usage("too many arguments");
  }
  if (!id) bad_usage("missing sandbox id");
  if (!range) die_with_code(EXIT_USAGE, "--range N is required (1..%u)", MAX_RANGE);
  return create_sandbox(id, range, &l);
}

static bool wait_gone(const state_t *st, int tenths) {
  for (int i = 0; i < tenths; i++) {
    if (!state_running(st)) return true;
    nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
  }
  return !state_running(st);
}

/* Stops pid 1 (which shuts the engine down cleanly), then kills whatever is left. */
static void stop_sandbox(state_t *st) {
  if (state_running(st)) {
    kill(st->pid, SIGTERM);
    if (!wait_gone(st, 200)) kill(st->pid, SIGKILL);
    wait_gone(st, 50);
  }
  st->pid = 0;
  st->started = 0;
}

/* Destroying throws everything away: no graceful engine shutdown, every process killed at once. */
void sandbox_teardown(const char *id) {
  state_t st;
  if (state_load(id, &st) && state_running(&st)) {
    kill(st.pid, SIGKILL);
    wait_gone(&st, 50);
  }
  cgroups_kill_and_remove(id);
  /* Mounts lived only in the sandbox's namespaces; the loop device detaches itself with the last one. */
  cleanup_free char *dir = sandbox_dir(id);
  remove_tree(dir);
}

static state_t must_load(const char *id) {
  state_t st;
  if (!state_load(id, &st)) die_with_code(EXIT_NOT_FOUND, "no sandbox %s", id);
  return st;
}

static int cmd_stop(int argc, char **argv) {
  if (argc != 2) bad_usage("stop takes one sandbox id");
  state_t st = must_load(checked_id(argv[1]));
  stop_sandbox(&st);
  cgroups_kill_and_remove(st.id);
  state_save(&st);
  return 0;
}

static int cmd_destroy(int argc, char **argv) {
  if (argc != 2) bad_usage("destroy takes one sandbox id");
  const char *id = checked_id(argv[1]);
  cleanup_free char *dir = sandbox_dir(id);
  if (!path_exists(dir)) die_with_code(EXIT_NOT_FOUND, "no sandbox %s", id);
  sandbox_teardown(id);
  if (path_exists(dir)) die("could not remove %s", dir);
  return 0;
}

static int cmd_inspect(int argc, char **argv) {
  if (argc != 3 || strcmp(argv[2], "--json")) bad_usage("inspect takes a sandbox id and --json");
  state_t st = must_load(checked_id(argv[1]));
  state_print_json(&st, state_running(&st));
  putchar('\n');
  return 0;
}

static int cmd_list(int argc, char **argv) {
  if (argc != 2 || strcmp(argv[1], "--json")) bad_usage("list takes --json");
  cleanup_free char *root = xasprintf("%s/sandboxes", data_dir());
  DIR *d = opendir(root);
  putchar('[');
  bool first = true;
  for (struct dirent *e; d && (e = readdir(d));) {
    state_t st;
    if (e->d_name[0] == '.' || !valid_id(e->d_name) || !state_load(e->d_name, &st)) continue;
    if (!first) putchar(',');
    first = false;
    state_print_json(&st, state_running(&st));
  }
  if (d) closedir(d);
  puts("]");
  return 0;
}

int main(int argc, char **argv) {
  /* Nothing the caller holds crosses into a sandbox: the caller's other terminals, pipes, directories. */
  if (close_range(3, ~0u, 0) < 0) die_with_error("close inherited descriptors");
  if (argc < 2) bad_usage("missing command");
  (void)data_dir(); /* read before the environment is scrubbed */
  (void)caller_gid(); /* and before any setresgid */
  if (clearenv() != 0) die("cannot clear the environment");
  setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
  umask(022);
  current_command = argv[1];
  static const struct {
    const char *name;
    int (*run)(int, char **);
  } commands[] = {{"create", cmd_create}, {"exec", cmd_exec},   {"connect", cmd_connect}, {"file", cmd_file}, {"session", cmd_session}, {"stop", cmd_stop},
                  {"destroy", cmd_destroy}, {"inspect", cmd_inspect}, {"list", cmd_list}};
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  die_with_code(EXIT_USAGE, "unknown command %.40s\n%s", argv[1], usage);
}
