/* Limits for a whole sandbox: memory, pids and cpu, on cgroup v1 hosts (one hierarchy per controller)
 * and on cgroup v2 hosts. The limits sit on dockside/<id>, which stays real root's; the sandbox lives in
 * dockside/<id>/sandbox, the root of its cgroup namespace, delegated the way systemd's Delegate=yes
 * delegates: the directory and the files that move processes and enable controllers, nothing that sets
 * a limit. Whatever the engine inside makes below it is its own, and still within the limits above.
 *
 * CPU priority, for typing that does not stutter while sandboxes build: inside a sandbox its terminals
 * (the session holders and their shells) sit in their own cgroup beside the engine's, weighing ten times
 * the default. That only re-divides the sandbox's own share. All sandboxes together (dockside/) stay at the
 * default weight: lower, a terminal inside waits behind any other work on the host (a shell's wake-up p99
 * measured 2-3x worse at a tenth), while the server, beside dockside/, already gets at least half the CPU.
 *
 * What that leaves (bench:engine, 20 sandboxes building): a waking shell still waits for its sandbox's
 * group to be picked among the 20 busy ones above it, which no weight inside helps. Moved by hand to a
 * top-level cpu group at 10240, a key straight to the holder echoed at p99 44 ms instead of 174-256 ms.
 * Doing that here means a terminal cgroup outside the sandbox's limits (its own cpu.max; on v2 its own
 * memory.max and pids.max as well), which a test of escaping the limits through it must come with. */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CG "/sys/fs/cgroup"
#define DELEGATED "sandbox"
/* On cgroup v2, processes live in a leaf below the delegated root, so controllers can be enabled there. */
#define V2_LEAF "init"
/* The session holders and what they run, below the delegated root (v2; v1: in the cpu hierarchy only). */
#define TERMINALS "terminals"
/* cpu.weight (v2, default 100) and the same in cpu.shares (v1, default 1024). */
#define TERMINALS_WEIGHT "1000"
#define TERMINALS_SHARES "10240"

static const char *const V1[] = {"memory", "pids", "cpu", "cpuacct", "cpuset", "blkio", "devices", "freezer", NULL};
static const char *const V1_DELEGATE[] = {"", "cgroup.procs", "tasks", NULL};
static const char *const V2_DELEGATE[] = {"", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", NULL};
static const char *const V2_CONTROLLERS[] = {"memory", "pids", "cpu", "cpuset", "io", NULL};

bool cgroups_v1(void) { return path_exists(CG "/memory/memory.limit_in_bytes"); }

void cgroups_check_host(void) {
  if (cgroups_v1()) {
    if (!path_exists(CG "/pids/cgroup.procs") || !path_exists(CG "/cpu/cgroup.procs"))
      die("this host's cgroup v1 has no pids or cpu hierarchy at %s/pids and %s/cpu: sandboxes need memory, pids "
          "and cpu limits",
          CG, CG);
    return;
  }
  cleanup_free char *controllers = read_file(CG "/cgroup.controllers");
  if (!controllers)
    die("no cgroup hierarchy at %s (neither v1 memory nor v2): mount one, as systemd does, to run sandboxes", CG);
  for (int i = 0; i < 3; i++) {
    cleanup_free char *word = xasprintf(" %s ", V2_CONTROLLERS[i]);
    cleanup_free char *padded = xasprintf(" %s ", controllers);
    for (char *c = padded; *c; c++)
      if (*c == '\n') *c = ' ';
    if (!strstr(padded, word))
      die("this host's cgroup v2 root lacks the %s controller (%s/cgroup.controllers); sandboxes need memory, pids "
          "and cpu",
          V2_CONTROLLERS[i], CG);
  }
}

static void write_cg(const char *dir, const char *file, const char *value, bool required) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  if (write_file_at(path, value) < 0 && required) die_with_error("write %s to %s", value, path);
}

static void make_dir(const char *dir) {
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) die_with_error("mkdir %s", dir);
}

static void delegate(const char *dir, const char *const files[], uid_t owner) {
  for (int i = 0; files[i]; i++) {
    cleanup_free char *p = *files[i] ? xasprintf("%s/%s", dir, files[i]) : xasprintf("%s", dir);
    if (chown(p, owner, owner) < 0 && errno != ENOENT) die_with_error("chown %s", p);
  }
}

static void copy_parent_cpuset(const char *dir) {
  for (const char *f = "cpuset.cpus"; f; f = strcmp(f, "cpuset.cpus") ? NULL : "cpuset.mems") {
    cleanup_free char *self = xasprintf("%s/%s", dir, f);
    cleanup_free char *cur = read_file(self);
    if (cur && cur[0] != '\n' && cur[0]) continue;
    cleanup_free char *parent_dir = strdup(dir);
    *strrchr(parent_dir, '/') = '\0';
    cleanup_free char *parent = xasprintf("%s/%s", parent_dir, f);
    cleanup_free char *value = read_file(parent);
    if (value) write_file_or_die(self, value);
  }
}

static void enable_v2_controllers(const char *dir, bool required) {
  for (int i = 0; V2_CONTROLLERS[i]; i++) {
    cleanup_free char *one = xasprintf("+%s", V2_CONTROLLERS[i]);
    bool needed = required && i < 3; /* memory, pids, cpu; cpuset and io where the host has them */
    write_cg(dir, "cgroup.subtree_control", one, needed);
  }
}

void cgroups_create(const char *id, const limits_t *l, uid_t owner) {
  char buf[64];
  if (cgroups_v1()) {
    for (int i = 0; V1[i]; i++) {
      cleanup_free char *root = xasprintf(CG "/%s", V1[i]);
      if (!path_exists(root)) continue;
      cleanup_free char *parent = xasprintf("%s/" CGROUP_PARENT, root);
      cleanup_free char *dir = xasprintf("%s/%s", parent, id);
      cleanup_free char *inner = xasprintf("%s/" DELEGATED, dir);
      const char *chain[] = {parent, dir, inner};
      for (int c = 0; c < 3; c++) {
        make_dir(chain[c]);
        if (!strcmp(V1[i], "cpuset")) copy_parent_cpuset(chain[c]);
      }
      if (!strcmp(V1[i], "memory")) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)l->memory_bytes);
        write_cg(dir, "memory.limit_in_bytes", buf, true);
        write_cg(dir, "memory.memsw.limit_in_bytes", buf, false); /* no swap beyond the limit, where accounted */
        write_cg(dir, "memory.use_hierarchy", "1", false);
      } else if (!strcmp(V1[i], "pids")) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)l->pids);
        write_cg(dir, "pids.max", buf, true);
      } else if (!strcmp(V1[i], "cpu")) {
        write_cg(dir, "cpu.cfs_period_us", "100000", true);
        snprintf(buf, sizeof buf, "%lld", (long long)(l->cpus * 100000));
        write_cg(dir, "cpu.cfs_quota_us", buf, true);
      }
      delegate(inner, V1_DELEGATE, owner);
    }
    return;
  }
  make_dir(CG "/" CGROUP_PARENT);
  enable_v2_controllers(CG, false); /* usually done already by the host's init */
  enable_v2_controllers(CG "/" CGROUP_PARENT, true);
  cleanup_free char *dir = xasprintf(CG "/" CGROUP_PARENT "/%s", id);
  make_dir(dir);
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)l->memory_bytes);
  write_cg(dir, "memory.max", buf, true);
  write_cg(dir, "memory.swap.max", "0", false);
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)l->pids);
  write_cg(dir, "pids.max", buf, true);
  snprintf(buf, sizeof buf, "%lld 100000", (long long)(l->cpus * 100000));
  write_cg(dir, "cpu.max", buf, true);
  enable_v2_controllers(dir, true);
  cleanup_free char *inner = xasprintf("%s/" DELEGATED, dir);
  make_dir(inner);
  delegate(inner, V2_DELEGATE, owner);
}

void cgroups_enter(const char *id, pid_t pid, bool namespace_root) {
  char buf[32];
  snprintf(buf, sizeof buf, "%d", (int)pid);
  if (cgroups_v1()) {
    for (int i = 0; V1[i]; i++) {
      cleanup_free char *dir = xasprintf(CG "/%s/" CGROUP_PARENT "/%s/" DELEGATED, V1[i], id);
      if (path_exists(dir)) write_cg(dir, "cgroup.procs", buf, true);
    }
    return;
  }
  cleanup_free char *dir = namespace_root ? xasprintf(CG "/" CGROUP_PARENT "/%s/" DELEGATED, id)
                                          : xasprintf(CG "/" CGROUP_PARENT "/%s/" DELEGATED "/" V2_LEAF, id);
  write_cg(dir, "cgroup.procs", buf, true);
}

void cgroups_enter_terminal(const char *id, pid_t pid) {
  char buf[32];
  snprintf(buf, sizeof buf, "%d", (int)pid);
  if (cgroups_v1()) {
    for (int i = 0; V1[i]; i++) {
      cleanup_free char *dir = xasprintf(CG "/%s/" CGROUP_PARENT "/%s/" DELEGATED, V1[i], id);
      if (!path_exists(dir)) continue;
      /* cpuacct too: where it shares cpu's hierarchy (cpu,cpuacct), joining its sandbox/ would move the
       * holder back out of terminals/. */
      if (strcmp(V1[i], "cpu") && strcmp(V1[i], "cpuacct")) {
        write_cg(dir, "cgroup.procs", buf, true);
        continue;
      }
      cleanup_free char *terminals = xasprintf("%s/" TERMINALS, dir);
      make_dir(terminals);
      if (!strcmp(V1[i], "cpu")) write_cg(terminals, "cpu.shares", TERMINALS_SHARES, true);
      write_cg(terminals, "cgroup.procs", buf, true);
    }
    return;
  }
  cleanup_free char *terminals = xasprintf(CG "/" CGROUP_PARENT "/%s/" DELEGATED "/" TERMINALS, id);
  make_dir(terminals);
  /* Only where the cpu controller is still enabled below the delegated root: root inside may turn it off. */
  write_cg(terminals, "cpu.weight", TERMINALS_WEIGHT, false);
  write_cg(terminals, "cgroup.procs", buf, true);
}

void cgroups_settle_inside(const char *id) {
  if (cgroups_v1()) return;
  /* As the sandbox's root, in its new cgroup namespace: into the leaf, then hand every controller on, so
   * the engine inside can enable them for its containers. */
  cleanup_free char *root = xasprintf(CG "/" CGROUP_PARENT "/%s/" DELEGATED, id);
  cleanup_free char *leaf = xasprintf("%s/" V2_LEAF, root);
  make_dir(leaf);
  write_cg(leaf, "cgroup.procs", "0", true);
  enable_v2_controllers(root, true);
}

static int kill_procs(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag != FTW_D && flag != FTW_DP) return 0;
  cleanup_free char *procs_path = xasprintf("%s/cgroup.procs", path);
  cleanup_free char *procs = read_file(procs_path);
  if (!procs) return 0;
  for (char *line = strtok(procs, "\n"); line; line = strtok(NULL, "\n")) kill((pid_t)atoi(line), SIGKILL);
  return 0;
}

static int remove_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag == FTW_DP) rmdir(path);
  return 0;
}

static void kill_and_remove(const char *dir) {
  if (!path_exists(dir)) return;
  for (int attempt = 0; attempt < 100 && path_exists(dir); attempt++) {
    nftw(dir, kill_procs, 16, FTW_PHYS);
    nftw(dir, remove_dir, 16, FTW_DEPTH | FTW_PHYS);
    if (path_exists(dir)) nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
  }
  if (path_exists(dir)) warn_msg("cgroup %s could not be removed", dir);
}

void cgroups_kill_and_remove(const char *id) {
  if (cgroups_v1()) {
    for (int i = 0; V1[i]; i++) {
      cleanup_free char *dir = xasprintf(CG "/%s/" CGROUP_PARENT "/%s", V1[i], id);
      kill_and_remove(dir);
    }
  } else {
    cleanup_free char *dir = xasprintf(CG "/" CGROUP_PARENT "/%s", id);
    write_cg(dir, "cgroup.kill", "1", false);
    kill_and_remove(dir);
  }
}

uint64_t cgroups_memory_usage(const char *id) {
  cleanup_free char *path = cgroups_v1() ? xasprintf(CG "/memory/" CGROUP_PARENT "/%s/memory.usage_in_bytes", id)
                                         : xasprintf(CG "/" CGROUP_PARENT "/%s/memory.current", id);
  cleanup_free char *v = read_file(path);
  return v ? strtoull(v, NULL, 10) : 0;
}
