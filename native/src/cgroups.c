/* Limits for a whole sandbox: memory, pids and cpu, on cgroup v1 hosts (one hierarchy per controller)
 * and on cgroup v2 hosts. The limits sit on dockside/<id>, which stays real root's; the sandbox lives in
 * dockside/<id>/sandbox, the root of its cgroup namespace, delegated the way systemd's Delegate=yes
 * delegates: the directory and the files that move processes and enable controllers, nothing that sets
 * a limit. Whatever the engine inside makes below it is its own, and still within the limits above.
 *
 * Terminals (the session holders and all they run) get a cpu group outside dockside/, so that typing
 * does not stutter while sandboxes build. A weight inside a sandbox only re-divides its own share: under
 * 20 building sandboxes (bench:engine) a waking shell still waited for its sandbox's group to be picked
 * among the 20 busy ones, p99 174-238 ms for a key straight to the holder; in a top-level group at
 * cpu.shares 10240 it was 44 ms. So a terminal lives in dockside-terminals/<id> (v1: the cpu and cpuacct
 * hierarchies only; its memory, pids and the rest stay the sandbox's own, and so do those limits; v2: the
 * unified hierarchy, so the group has memory and pids limits of its own). The group is real root's, made
 * here and never delegated; the sandbox's cgroup namespace is rooted below dockside/<id>, so nothing inside
 * can reach its files, move a process into it or change its limits (nor, on v2, move one out; v1 checks
 * only ids, so the sandbox's root may move its own terminal's processes back into its own cgroups, which
 * only lowers them). Its bounds, so it lifts no limit:
 *   - dockside-terminals/ weighs ten times the default (shares 10240, weight 1000): a waking shell
 *     preempts builds; as a whole it gets half the host's CPUs, so terminals can never starve the server.
 *   - dockside/, all sandboxes together, weighs a quarter of the default (shares 256, weight 25), so the
 *     server (and anything else on the host) wakes ahead of the builds too. Under 20 building sandboxes
 *     (a probe alternating the weight every 20 keys, 160 keys each): a key's echo through the server p99
 *     82 ms at 1024 against 12 at 256, the server's own round trip 42 against 3.6, and the sandboxes used
 *     as much CPU (1.4-1.5 of 2): the server is idle most of the time, so its priority costs them nothing
 *     then. (At a tenth, before terminals had their own group, a shell inside dockside/ woke 2-3x later
 *     whenever the host was busy; terminals are not in dockside/ now.) It only bites when host processes
 *     are busy: then sandboxes wait, which is the point: typing and the page come first.
 *   - dockside-terminals/<id>: half the sandbox's --cpus (at least 0.25 CPU, at most the parent's), and on
 *     v2 a quarter of its memory (no swap) and 256 pids (at most its --pids). A sandbox thus has its limits
 *     plus these for what its learner runs in terminals.
 *   - The period is 10 ms, not 100: a group at its quota waits at most a period, so a learner's `yes` in
 *     one terminal (or enough of them to use the parent's quota) delays other keystrokes by at most that.
 *   - The holder shares its group's quota with what it runs: a flood of output moves what half a CPU
 *     moves (bench:engine, `yes | head -c 100M`: 3.3-3.9 MB/s, against 6.2-7.5 in the sandbox's group,
 *     7.3 with this quota at one CPU by hand).
 * A build started from a terminal runs in the engine (dockerd's group), not there. dockside-terminals/<id>
 * is removed with dockside/<id> (stop, destroy, a failed create), and found again by id like it.
 * Measured (bench:engine, 20 sandboxes building, 3 runs each, medians): echo p99 57 ms against 163 before,
 * a key straight to the holder p99 10.5 ms against 53. */
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
/* The terminals' cpu group, beside dockside/ (see above): its weight as cpu.weight (v2, default 100) and as
 * cpu.shares (v1, default 1024), its period and what each sandbox's terminals may use. */
#define TERMINALS_PARENT "dockside-terminals"
/* All sandboxes together weigh a quarter of a default group (see above). */
#define SANDBOXES_WEIGHT "25"
#define SANDBOXES_SHARES "256"
#define TERMINALS_WEIGHT "1000"
#define TERMINALS_SHARES "10240"
#define TERMINALS_PERIOD_US 10000
#define TERMINAL_MIN_CPUS 0.25
#define TERMINAL_PIDS 256

static const char *const V1[] = {"memory", "pids", "cpu", "cpuacct", "cpuset", "blkio", "devices", "freezer", NULL};
static const char *const V1_DELEGATE[] = {"", "cgroup.procs", "tasks", NULL};
static const char *const V2_DELEGATE[] = {"", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", NULL};
static const char *const V2_CONTROLLERS[] = {"memory", "pids", "cpu", "cpuset", "io", NULL};
/* Where a terminal leaves the sandbox's own cgroups on v1 (the same hierarchy where they are mounted together). */
static const char *const V1_TERMINALS[] = {"cpu", "cpuacct", NULL};

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

static long long terminals_quota_us(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) die_with_error("count this host's CPUs");
  return cpus * TERMINALS_PERIOD_US / 2;
}

/* dockside-terminals/ and dockside-terminals/<id>, with the bounds above; v1 refuses a child's quota above
 * its parent's, v2 would cap it there anyway. */
static void terminal_group_create(const char *id, const limits_t *l) {
  char parent_max[64], own_max[64], buf[64];
  long long parent_quota = terminals_quota_us();
  double cpus = l->cpus / 2 < TERMINAL_MIN_CPUS ? TERMINAL_MIN_CPUS : l->cpus / 2;
  long long quota = (long long)(cpus * TERMINALS_PERIOD_US);
  if (quota > parent_quota) quota = parent_quota;
  if (cgroups_v1()) {
    for (int i = 0; V1_TERMINALS[i]; i++) {
      cleanup_free char *parent = xasprintf(CG "/%s/" TERMINALS_PARENT, V1_TERMINALS[i]);
      cleanup_free char *dir = xasprintf("%s/%s", parent, id);
      cleanup_free char *root = xasprintf(CG "/%s", V1_TERMINALS[i]);
      if (!path_exists(root)) continue;
      make_dir(parent);
      make_dir(dir);
      if (strcmp(V1_TERMINALS[i], "cpu")) continue;
      snprintf(parent_max, sizeof parent_max, "%lld", parent_quota);
      snprintf(own_max, sizeof own_max, "%lld", quota);
      snprintf(buf, sizeof buf, "%d", TERMINALS_PERIOD_US);
      write_cg(parent, "cpu.shares", TERMINALS_SHARES, true);
      write_cg(parent, "cpu.cfs_period_us", buf, true);
      write_cg(parent, "cpu.cfs_quota_us", parent_max, true);
      write_cg(dir, "cpu.cfs_period_us", buf, true);
      write_cg(dir, "cpu.cfs_quota_us", own_max, true);
    }
    return;
  }
  static const char *const controllers[] = {"+memory", "+pids", "+cpu", NULL};
  make_dir(CG "/" TERMINALS_PARENT);
  for (int i = 0; controllers[i]; i++) write_cg(CG "/" TERMINALS_PARENT, "cgroup.subtree_control", controllers[i], true);
  snprintf(parent_max, sizeof parent_max, "%lld %d", parent_quota, TERMINALS_PERIOD_US);
  write_cg(CG "/" TERMINALS_PARENT, "cpu.weight", TERMINALS_WEIGHT, true);
  write_cg(CG "/" TERMINALS_PARENT, "cpu.max", parent_max, true);
  cleanup_free char *dir = xasprintf(CG "/" TERMINALS_PARENT "/%s", id);
  make_dir(dir);
  snprintf(own_max, sizeof own_max, "%lld %d", quota, TERMINALS_PERIOD_US);
  write_cg(dir, "cpu.max", own_max, true);
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)(l->memory_bytes / 4));
  write_cg(dir, "memory.max", buf, true);
  write_cg(dir, "memory.swap.max", "0", false); /* where swap is accounted */
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)(l->pids < TERMINAL_PIDS ? l->pids : TERMINAL_PIDS));
  write_cg(dir, "pids.max", buf, true);
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
        write_cg(parent, "cpu.shares", SANDBOXES_SHARES, true);
        write_cg(dir, "cpu.cfs_period_us", "100000", true);
        snprintf(buf, sizeof buf, "%lld", (long long)(l->cpus * 100000));
        write_cg(dir, "cpu.cfs_quota_us", buf, true);
      }
      delegate(inner, V1_DELEGATE, owner);
    }
    terminal_group_create(id, l);
    return;
  }
  make_dir(CG "/" CGROUP_PARENT);
  enable_v2_controllers(CG, false); /* usually done already by the host's init */
  enable_v2_controllers(CG "/" CGROUP_PARENT, true);
  write_cg(CG "/" CGROUP_PARENT, "cpu.weight", SANDBOXES_WEIGHT, true);
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
  terminal_group_create(id, l);
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

void cgroups_enter_terminal(const state_t *st, pid_t pid) {
  char buf[32];
  snprintf(buf, sizeof buf, "%d", (int)pid);
  cleanup_free char *own = cgroups_v1() ? xasprintf(CG "/cpu/" TERMINALS_PARENT "/%s", st->id)
                                        : xasprintf(CG "/" TERMINALS_PARENT "/%s", st->id);
  /* A sandbox that an older runtime made has none yet. */
  if (!path_exists(own)) terminal_group_create(st->id, &st->limits);
  if (!cgroups_v1()) {
    write_cg(own, "cgroup.procs", buf, true);
    return;
  }
  for (int i = 0; V1[i]; i++) {
    bool terminal = !strcmp(V1[i], "cpu") || !strcmp(V1[i], "cpuacct");
    cleanup_free char *dir = terminal ? xasprintf(CG "/%s/" TERMINALS_PARENT "/%s", V1[i], st->id)
                                      : xasprintf(CG "/%s/" CGROUP_PARENT "/%s/" DELEGATED, V1[i], st->id);
    if (path_exists(dir)) write_cg(dir, "cgroup.procs", buf, true);
  }
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
    for (int i = 0; V1_TERMINALS[i]; i++) {
      cleanup_free char *dir = xasprintf(CG "/%s/" TERMINALS_PARENT "/%s", V1_TERMINALS[i], id);
      kill_and_remove(dir);
    }
    for (int i = 0; V1[i]; i++) {
      cleanup_free char *dir = xasprintf(CG "/%s/" CGROUP_PARENT "/%s", V1[i], id);
      kill_and_remove(dir);
    }
    return;
  }
  const char *const parents[] = {TERMINALS_PARENT, CGROUP_PARENT, NULL};
  for (int i = 0; parents[i]; i++) {
    cleanup_free char *dir = xasprintf(CG "/%s/%s", parents[i], id);
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
