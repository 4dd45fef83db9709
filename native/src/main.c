/* dockside-sandbox: the only privileged program of Dockside. Every argument is validated; no path
 * comes from the caller; the environment is scrubbed. See native/README.md for commands and exit codes. */
#include "sandbox.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: dockside-sandbox create ID --range N [--memory 1G] [--pids 2048] [--cpus 1.0] [--disk 8G]\n"
    "       dockside-sandbox exec [-t] [--cwd DIR] [--env K=V]... ID -- CMD...\n"
    "       dockside-sandbox session [--cols N] [--rows N] [--cwd DIR] [--env K=V]... ID NAME -- CMD...\n"
    "       dockside-sandbox connect ID PORT\n"
    "       dockside-sandbox file [--under DIR] ID list|read|write|create|rename|remove PATH...\n"
    "       dockside-sandbox layerdb ID CHAIN_ID diff|cache-id|tar-split\n"
    "       dockside-sandbox stop ID | destroy ID | inspect ID --json | list --json\n";

__attribute__((noreturn)) static void bad_usage(const char *why) {
  die_with_code(EXIT_USAGE, "%s\n%s", why, usage);
}

static int cmd_create(int argc, char **argv) {
  const char *id = NULL;
  unsigned range = 0;
  limits_t l = {.memory_bytes = 1ull << 30, .pids = 2048, .cpus = 1.0, .disk_bytes = 8ull << 30};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--range")) range = (unsigned)uint_option(a, v, 1, MAX_RANGE), i++;
    else if (!strcmp(a, "--memory")) l.memory_bytes = size_option(a, v, 64ull << 20, 256ull << 30), i++;
    else if (!strcmp(a, "--pids")) l.pids = uint_option(a, v, 64, 1u << 22), i++;
    else if (!strcmp(a, "--disk")) l.disk_bytes = size_option(a, v, 256ull << 20, 2048ull << 30), i++;
    else if (!strcmp(a, "--cpus")) l.cpus = cpus_option(v), i++;
    else if (a[0] == '-') die_with_code(EXIT_USAGE, "unknown option %.40s", a);
    else if (!id) id = checked_id(a);
    else bad_usage("too many arguments");
  }
  if (!id) bad_usage("missing sandbox id");
  if (!range) die_with_code(EXIT_USAGE, "--range N is required (1..%u)", MAX_RANGE);
  return create_sandbox(id, range, &l);
}

int main(int argc, char **argv) {
  /* Nothing the caller holds crosses into a sandbox: the caller's other terminals, pipes, directories. */
  if (close_range(3, ~0u, 0) < 0) die_with_error("close inherited descriptors");
  if (argc < 2) bad_usage("missing command");
  (void)data_dir(); /* read before the environment is scrubbed */
  (void)caller_gid(); /* and before any setresgid */
  if (clearenv() != 0) die("cannot clear the environment");
  if (setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1) < 0) die_with_error("set PATH");
  umask(022);
  current_command = argv[1];
  static const struct {
    const char *name;
    int (*run)(int, char **);
  } commands[] = {
      {"create", cmd_create},   /* here */
      {"exec", cmd_exec},       /* exec.c */
      {"connect", cmd_connect}, /* exec.c */
      {"file", cmd_file},       /* files.c */
      {"session", cmd_session}, /* session.c */
      {"layerdb", cmd_layerdb}, /* layerdb.c */
      {"stop", cmd_stop},       /* teardown.c */
      {"destroy", cmd_destroy}, /* teardown.c */
      {"inspect", cmd_inspect}, /* state.c */
      {"list", cmd_list},       /* state.c */
  };
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  die_with_code(EXIT_USAGE, "unknown command %.40s\n%s", argv[1], usage);
}
