/* Where sandboxes live on the host and what is recorded about each; `inspect` and `list`. */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef DOCKSIDE_DATA_DIR_DEFAULT
#define DOCKSIDE_DATA_DIR_DEFAULT "/var/lib/dockside"
#endif

static char data_dir_buf[4096];

const char *data_dir(void) {
  if (data_dir_buf[0]) return data_dir_buf;
  /* A setuid caller must not choose where we write: only real root may override. */
  const char *env = getuid() == 0 ? getenv("DOCKSIDE_DATA_DIR") : NULL;
  const char *dir = (env && env[0] == '/' && strlen(env) < 1024 && !strstr(env, "..")) ? env : DOCKSIDE_DATA_DIR_DEFAULT;
  snprintf(data_dir_buf, sizeof data_dir_buf, "%s", dir);
  return data_dir_buf;
}

gid_t caller_gid(void) {
  static gid_t gid = (gid_t)-1;
  if (gid == (gid_t)-1) gid = getgid();
  return gid;
}

char *sandbox_dir(const char *id) { return xasprintf("%s/sandboxes/%s", data_dir(), id); }

long long proc_start_time(pid_t pid) {
  cleanup_free char *path = xasprintf("/proc/%d/stat", pid);
  cleanup_free char *stat = read_file(path);
  if (!stat) return -1;
  /* Field 22 (starttime) comes after the command name, which may contain spaces: start after ')'. */
  char *p = strrchr(stat, ')');
  if (!p) return -1;
  long long value = -1;
  int field = 2;
  for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
    if (++field == 22) {
      value = atoll(tok);
      break;
    }
  }
  return value;
}

bool state_load(const char *id, state_t *st) {
  cleanup_free char *dir = sandbox_dir(id);
  cleanup_free char *path = xasprintf("%s/state", dir);
  cleanup_free char *text = read_file(path);
  if (!text) return false;
  memset(st, 0, sizeof *st);
  snprintf(st->id, sizeof st->id, "%s", id);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *eq = strchr(line, '=');
    if (!eq) continue;
    *eq = '\0';
    const char *k = line, *v = eq + 1;
    if (!strcmp(k, "range")) st->range = (unsigned)strtoul(v, NULL, 10);
    else if (!strcmp(k, "pid")) st->pid = (pid_t)atol(v);
    else if (!strcmp(k, "started")) st->started = atoll(v);
    else if (!strcmp(k, "created")) st->created = atoll(v);
    else if (!strcmp(k, "memory")) st->limits.memory_bytes = strtoull(v, NULL, 10);
    else if (!strcmp(k, "pids")) st->limits.pids = strtoull(v, NULL, 10);
    else if (!strcmp(k, "cpus")) st->limits.cpus = strtod(v, NULL);
    else if (!strcmp(k, "disk")) st->limits.disk_bytes = strtoull(v, NULL, 10);
  }
  return true;
}

state_t loaded_sandbox(const char *id) {
  state_t st;
  if (!state_load(id, &st)) die_with_code(EXIT_NOT_FOUND, "no sandbox %s", id);
  return st;
}

void state_save(const state_t *st) {
  cleanup_free char *dir = sandbox_dir(st->id);
  cleanup_free char *path = xasprintf("%s/state", dir);
  cleanup_free char *tmp = xasprintf("%s/state.tmp", dir);
  cleanup_free char *text = xasprintf(
      "range=%u\npid=%d\nstarted=%lld\ncreated=%lld\nmemory=%llu\npids=%llu\ncpus=%.2f\ndisk=%llu\n", st->range,
      (int)st->pid, st->started, st->created, (unsigned long long)st->limits.memory_bytes,
      (unsigned long long)st->limits.pids, st->limits.cpus, (unsigned long long)st->limits.disk_bytes);
  write_file_or_die(tmp, text);
  if (rename(tmp, path) < 0) die_with_error("rename %s", path);
}

bool state_running(const state_t *st) {
  return st->pid > 0 && proc_start_time(st->pid) == st->started;
}

void state_print_json(const state_t *st, bool running) {
  cleanup_free char *dir = sandbox_dir(st->id);
  printf("{\"id\":\"%s\",\"state\":\"%s\",\"running\":%s,\"range\":%u,\"uidBase\":%u,\"pid\":%d,"
         "\"createdAt\":%lld,\"dockerSocket\":\"%s/run/docker.sock\","
         "\"limits\":{\"memoryBytes\":%llu,\"pids\":%llu,\"cpus\":%.2f,\"diskBytes\":%llu},\"memoryUsage\":%llu}",
         st->id, running ? "running" : "stopped", running ? "true" : "false", st->range, st->range * RANGE_SIZE,
         running ? (int)st->pid : 0, st->created, dir, (unsigned long long)st->limits.memory_bytes,
         (unsigned long long)st->limits.pids, st->limits.cpus, (unsigned long long)st->limits.disk_bytes,
         (unsigned long long)(running ? cgroups_memory_usage(st->id) : 0));
}

int cmd_inspect(int argc, char **argv) {
  if (argc != 3 || strcmp(argv[2], "--json")) die_with_code(EXIT_USAGE, "inspect takes a sandbox id and --json");
  state_t st = loaded_sandbox(checked_id(argv[1]));
  state_print_json(&st, state_running(&st));
  putchar('\n');
  return 0;
}

int cmd_list(int argc, char **argv) {
  if (argc != 2 || strcmp(argv[1], "--json")) die_with_code(EXIT_USAGE, "list takes --json");
  cleanup_free char *root = xasprintf("%s/sandboxes", data_dir());
  DIR *d = opendir(root);
  if (!d && errno != ENOENT) die_with_error("open %s", root); /* none yet: an empty list */
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
