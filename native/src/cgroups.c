/* Limits for a whole sandbox: memory, pids and cpu, on cgroup v1 hosts (one hierarchy per controller)
 * and on cgroup v2 hosts (controllers delegated to the sandbox's subtree). The sandbox's root owns its
 * cgroup so the engine inside can make its own sub-cgroups, all within these limits. */
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

static const char *const V1[] = {"memory", "pids", "cpu", "cpuacct", "cpuset", "blkio", "devices", "freezer", NULL};

bool cgroups_v1(void) { return path_exists(CG "/memory/memory.limit_in_bytes"); }

static void write_cg(const char *dir, const char *file, const char *value, bool required) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  if (write_file_at(path, value) < 0) {
    if (required) die_with_error("write %s to %s", value, path);
  }
}

static void chown_tree_top(const char *dir, uid_t owner) {
  if (chown(dir, owner, owner) < 0) die_with_error("chown %s", dir);
  DIR *d = opendir(dir);
  if (!d) die_with_error("open %s", dir);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    cleanup_free char *p = xasprintf("%s/%s", dir, e->d_name);
    if (chown(p, owner, owner) < 0 && errno != EPERM) warn_msg("chown %s: %s", p, strerror(errno));
  }
  closedir(d);
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

void cgroups_create(const char *id, const limits_t *l, uid_t owner) {
  char buf[64];
  if (cgroups_v1()) {
    for (int i = 0; V1[i]; i++) {
      cleanup_free char *root = xasprintf(CG "/%s", V1[i]);
      if (!path_exists(root)) continue;
      cleanup_free char *parent = xasprintf("%s/" CGROUP_PARENT, root);
      cleanup_free char *dir = xasprintf("%s/%s", parent, id);
      if (mkdir(parent, 0755) < 0 && errno != EEXIST) die_with_error("mkdir %s", parent);
      if (!strcmp(V1[i], "cpuset")) copy_parent_cpuset(parent);
      if (mkdir(dir, 0755) < 0 && errno != EEXIST) die_with_error("mkdir %s", dir);
      if (!strcmp(V1[i], "cpuset")) copy_parent_cpuset(dir);
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
      chown_tree_top(dir, owner);
    }
    return;
  }
  /* cgroup v2: enable the controllers down to the sandbox and delegate its subtree. */
  mkdir_p(CG "/" CGROUP_PARENT, 0755);
  write_cg(CG, "cgroup.subtree_control", "+memory +pids +cpu", false);
  write_cg(CG "/" CGROUP_PARENT, "cgroup.subtree_control", "+memory +pids +cpu", true);
  cleanup_free char *dir = xasprintf(CG "/" CGROUP_PARENT "/%s", id);
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) die_with_error("mkdir %s", dir);
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)l->memory_bytes);
  write_cg(dir, "memory.max", buf, true);
  write_cg(dir, "memory.swap.max", "0", false);
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)l->pids);
  write_cg(dir, "pids.max", buf, true);
  snprintf(buf, sizeof buf, "%lld 100000", (long long)(l->cpus * 100000));
  write_cg(dir, "cpu.max", buf, true);
  /* Processes live in a leaf, so the engine inside may enable controllers for its own children. */
  cleanup_free char *leaf = xasprintf("%s/init", dir);
  if (mkdir(leaf, 0755) < 0 && errno != EEXIST) die_with_error("mkdir %s", leaf);
  chown_tree_top(dir, owner);
  chown_tree_top(leaf, owner);
}

void cgroups_enter(const char *id, pid_t pid) {
  char buf[32];
  snprintf(buf, sizeof buf, "%d", (int)pid);
  if (cgroups_v1()) {
    for (int i = 0; V1[i]; i++) {
      cleanup_free char *dir = xasprintf(CG "/%s/" CGROUP_PARENT "/%s", V1[i], id);
      if (path_exists(dir)) write_cg(dir, "cgroup.procs", buf, true);
    }
  } else {
    cleanup_free char *leaf = xasprintf(CG "/" CGROUP_PARENT "/%s/init", id);
    write_cg(leaf, "cgroup.procs", buf, true);
  }
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
