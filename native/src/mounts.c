/* The sandbox's filesystem. The parent (real root, in a private mount namespace) mounts the shared
 * base image idmapped and read-only, the overlay with the sandbox's own upper dir, and the sandbox's
 * ext4 disk image for /var/lib/docker. The child (root of the sandbox's user namespace) adds proc, sys,
 * cgroups, a minimal /dev, /run and /tmp, and pivots into it. */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

static int sys_open_tree(int dfd, const char *path, unsigned flags) {
  return (int)syscall(SYS_open_tree, dfd, path, flags);
}
static int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr, size_t size) {
  return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, size);
}
static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned flags) {
  return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

static void touch_file(const char *path);
static int open_forward_dir(void);
static void bind(const char *src, const char *dst, bool readonly);

static void do_mount(const char *src, const char *target, const char *type, unsigned long flags, const char *data) {
  if (mount(src, target, type, flags, data) < 0)
    die_with_error("mount %s on %s%s%s", src ? src : "(none)", target, data ? " with " : "", data ? data : "");
}

void mounts_prepare_root(const char *dir, const char *base, const char *init_bin, pid_t userns_pid, uid_t base_uid,
                         uint64_t disk_bytes) {
  /* Relative paths from here on: the overlay's options (visible in the sandbox's mountinfo) then name
   * no host directory. */
  if (chdir(dir) < 0) die_with_error("chdir %s", dir);
  const char *dirs[] = {"lower", "disk", "rootfs"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
    if (mkdir(dirs[i], 0700) < 0 && errno != EEXIST) die_with_error("mkdir %s/%s", dir, dirs[i]);
  if (chmod("rootfs", 0755) < 0) die_with_error("chmod %s/rootfs", dir);

  /* Every byte the sandbox writes lands on its own disk: the overlay's upper side and /var/lib/docker. */
  cleanup_free char *loop = NULL;
  cleanup_fd int loop_fd = disk_attach(dir, base_uid, disk_bytes, &loop);
  do_mount(loop, "disk", "ext4", MS_NOSUID | MS_NODEV, NULL);
  static const struct {
    const char *path;
    mode_t mode;
    bool sandbox_owns;
  } layout[] = {{"disk/upper", 0755, true}, {"disk/work", 0700, false}, {"disk/docker", 0710, true}};
  for (size_t i = 0; i < sizeof layout / sizeof *layout; i++) {
    if (mkdir(layout[i].path, layout[i].mode) < 0 && errno != EEXIST) die_with_error("mkdir %s/%s", dir, layout[i].path);
    uid_t owner = layout[i].sandbox_owns ? base_uid : 0;
    if (chown(layout[i].path, owner, owner) < 0) die_with_error("chown %s/%s", dir, layout[i].path);
  }

  /* The shared base image, shifted to the sandbox's ids, read-only: no copy per sandbox. */
  cleanup_free char *ns = xasprintf("/proc/%d/ns/user", (int)userns_pid);
  cleanup_fd int userns = open(ns, O_RDONLY | O_CLOEXEC);
  if (userns < 0) die_with_error("open %s", ns);
  cleanup_fd int tree = sys_open_tree(AT_FDCWD, base, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) die_with_error("open_tree %s", base);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY, .userns_fd = (uint64_t)userns};
  if (sys_mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    die_with_error("idmap %s (needs Linux 5.19+ and a filesystem with idmapped mounts)", base);
  if (sys_move_mount(tree, "", AT_FDCWD, "lower", MOVE_MOUNT_F_EMPTY_PATH) < 0) die_with_error("move_mount %s/lower", dir);

  do_mount("overlay", "rootfs", "overlay", 0, "lowerdir=lower,upperdir=disk/upper,workdir=disk/work");

  /* /var/lib/docker directly on the disk: overlay2 cannot use an overlay as its upper dir. */
  if (mkdir("rootfs/var/lib/docker", 0710) < 0 && errno != EEXIST) die_with_error("mkdir %s/rootfs/var/lib/docker", dir);
  bind("disk/docker", "rootfs/var/lib/docker", false);

  /* /run, with what the host lends the sandbox, bound here by host root so that no host directory
   * has to be open to the sandbox's ids. */
  cleanup_free char *run_opts = xasprintf("mode=755,size=65536k,uid=%u,gid=%u", base_uid, base_uid);
  do_mount("tmpfs", "rootfs/run", "tmpfs", MS_NOSUID | MS_NODEV, run_opts);
  if (mkdir("rootfs/run/dockside", 0755) < 0) die_with_error("mkdir %s/rootfs/run/dockside", dir);
  touch_file("rootfs/run/dockside/init");
  bind(init_bin, "rootfs/run/dockside/init", true);
  /* Unix sockets of services the sandbox may reach (the registry), read-only. */
  cleanup_fd int forward_src = open_forward_dir();
  if (forward_src >= 0) {
    if (mkdir("rootfs/run/dockside/forward", 0755) < 0) die_with_error("mkdir %s/rootfs/run/dockside/forward", dir);
    cleanup_free char *src = xasprintf("/proc/self/fd/%d", forward_src);
    bind(src, "rootfs/run/dockside/forward", true);
  }
}

/* registry/forward belongs to the server's user, who must not make host root bind another directory
 * into sandboxes: each step is opened without following symlinks, and the bind uses that very fd.
 * Returns -1 when there is no registry. */
static int open_forward_dir(void) {
  cleanup_fd int top = open(data_dir(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (top < 0) die_with_error("open %s", data_dir());
  cleanup_fd int registry = openat(top, "registry", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (registry < 0 && errno == ENOENT) return -1;
  if (registry < 0) die_with_error("open %s/registry (it must be a directory, not a link)", data_dir());
  int forward = openat(registry, "forward", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (forward < 0 && errno == ENOENT) return -1;
  if (forward < 0) die_with_error("open %s/registry/forward (it must be a directory, not a link)", data_dir());
  return forward;
}

static void touch_file(const char *path) {
  cleanup_fd int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) die_with_error("create %s", path);
}

static void bind(const char *src, const char *dst, bool readonly) {
  do_mount(src, dst, NULL, MS_BIND | MS_REC, NULL);
  if (readonly) do_mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
}

/* The controllers of a v1 cgroup mount's super options ("rw,cpu,cpuacct" -> "cpu,cpuacct"), or NULL for a
 * hierarchy the sandbox does not get (named ones such as name=systemd, and controllers it has no cgroup in). */
static char *v1_controllers(const char *super_opts) {
  static const char *const known[] = {"memory", "pids", "cpu", "cpuacct", "cpuset", "blkio", "devices", "freezer", NULL};
  cleanup_free char *copy = strdup(super_opts);
  if (!copy) die("out of memory");
  char out[256] = "";
  for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    for (int i = 0; known[i]; i++)
      if (!strcmp(tok, known[i]) && strlen(out) + strlen(tok) + 2 < sizeof out) {
        if (*out) strcat(out, ",");
        strcat(out, tok);
      }
  return *out ? strdup(out) : NULL;
}

static void mount_cgroups(const char *root, bool v1) {
  cleanup_free char *cg = xasprintf("%s/sys/fs/cgroup", root);
  if (!v1) {
    do_mount("cgroup2", cg, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    return;
  }
  /* Each v1 hierarchy as the host mounts it (one per controller here, "cpu,cpuacct" together where
   * systemd mounted them), rooted at this sandbox's cgroup by the cgroup namespace, and the host's
   * links between their names: the engine inside sets per-container limits in them. */
  do_mount("tmpfs", cg, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) die_with_error("open /proc/self/mountinfo");
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    /* id parent major:minor root mountpoint options [optional...] - fstype source superoptions */
    char mountpoint[512], fstype[64], super_opts[512];
    const char *dash = strstr(line, " - ");
    if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mountpoint) != 1 ||
        sscanf(dash, " - %63s %*s %511s", fstype, super_opts) != 2 || strcmp(fstype, "cgroup") ||
        strncmp(mountpoint, "/sys/fs/cgroup/", 15) || strchr(mountpoint + 15, '/'))
      continue;
    cleanup_free char *ctrls = v1_controllers(super_opts);
    if (!ctrls) continue;
    cleanup_free char *dst = xasprintf("%s/%s", cg, mountpoint + 15);
    if (mkdir(dst, 0755) < 0) die_with_error("mkdir %s", dst);
    do_mount("cgroup", dst, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, ctrls);
  }
  free(line);
  fclose(f);
  DIR *d = opendir("/sys/fs/cgroup");
  if (!d) die_with_error("open /sys/fs/cgroup");
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_type != DT_LNK) continue;
    cleanup_free char *host = xasprintf("/sys/fs/cgroup/%s", e->d_name);
    char target[256];
    ssize_t n = readlink(host, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    cleanup_free char *inside = xasprintf("%s/%s", cg, e->d_name);
    cleanup_free char *resolved = xasprintf("%s/%s", cg, target);
    if (!strchr(target, '/') && path_exists(resolved) && symlink(target, inside) < 0)
      die_with_error("symlink %s", inside);
  }
  closedir(d);
  /* Docker looks for the cpu controller under either name. */
  cleanup_free char *cpu = xasprintf("%s/cpu", cg);
  cleanup_free char *both = xasprintf("%s/cpu,cpuacct", cg);
  if (path_exists(cpu) && !path_exists(both) && symlink("cpu", both) < 0) die_with_error("symlink %s", both);
}

/* What names the host or other learners, hidden as runc and crun hide it. These masks are the sandbox
 * root's own mounts, which it could remove: they must stay unlocked, or the kernel refuses the engine
 * inside a fresh proc or sysfs for its containers (mount_too_revealing). So none of them is the only
 * protection: the kernel refuses an unmapped root most of these, and the loop devices' backing files
 * name no host path (disk.c). The list comes from what a sandbox could read here (runtime tests). */
static void mask_host_facts(const char *root) {
  static const char *const files[] = {"proc/kcore",         "proc/keys",      "proc/key-users", "proc/timer_list",
                                      "proc/sched_debug",   "proc/latency_stats", "proc/timer_stats", "proc/kallsyms",
                                      "proc/sysrq-trigger", NULL};
  static const char *const dirs[] = {"proc/acpi",  "proc/scsi",  "proc/asound", "proc/fs/ext4", "sys/firmware",
                                     "sys/block",  "sys/devices/virtual/block", "sys/devices/virtual/powercap",
                                     "sys/class/block", "sys/dev/block", NULL};
  for (int i = 0; files[i]; i++) {
    cleanup_free char *p = xasprintf("%s/%s", root, files[i]);
    if (!path_exists(p)) continue;
    do_mount("/dev/null", p, NULL, MS_BIND, NULL);
    do_mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  }
  for (int i = 0; dirs[i]; i++) {
    cleanup_free char *p = xasprintf("%s/%s", root, dirs[i]);
    if (!path_exists(p)) continue;
    do_mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=555");
  }
}

void mounts_finish_inside(const char *id, bool v1) {
  /* Relative to the sandbox's directory, our working directory since before we became the sandbox's
   * root: its host-side parents need not be open to the sandbox's ids. */
  cleanup_free char *r = strdup("rootfs");
  do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  /* Mounts copied from the set-up namespace are locked here; pivot_root needs a root of our own. */
  do_mount(r, r, NULL, MS_BIND | MS_REC, NULL);

  cleanup_free char *proc = xasprintf("%s/proc", r);
  do_mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  cleanup_free char *sys = xasprintf("%s/sys", r);
  do_mount("sysfs", sys, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_cgroups(r, v1);
  mask_host_facts(r);

  /* A minimal /dev: the harmless character devices, a private devpts, shared memory. */
  cleanup_free char *dev = xasprintf("%s/dev", r);
  do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k");
  static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty", NULL};
  for (int i = 0; nodes[i]; i++) {
    cleanup_free char *src = xasprintf("/dev/%s", nodes[i]);
    cleanup_free char *dst = xasprintf("%s/%s", dev, nodes[i]);
    touch_file(dst);
    do_mount(src, dst, NULL, MS_BIND, NULL);
  }
  cleanup_free char *pts = xasprintf("%s/pts", dev);
  cleanup_free char *shm = xasprintf("%s/shm", dev);
  cleanup_free char *mqueue = xasprintf("%s/mqueue", dev);
  if (mkdir(pts, 0755) < 0 || mkdir(shm, 01777) < 0 || mkdir(mqueue, 0755) < 0) die_with_error("mkdir in %s", dev);
  do_mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  do_mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k");
  do_mount("mqueue", mqueue, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  static const char *const links[][2] = {{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
                                         {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    cleanup_free char *p = xasprintf("%s/%s", dev, links[i][1]);
    if (symlink(links[i][0], p) < 0) die_with_error("symlink %s", p);
  }

  cleanup_free char *tmp = xasprintf("%s/tmp", r);
  do_mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");

  cleanup_free char *hostname = xasprintf("%s/etc/hostname", r);
  cleanup_free char *line = xasprintf("%s\n", id);
  write_file_or_die(hostname, line);
  if (sethostname(id, strlen(id)) < 0) die_with_error("sethostname %s", id);

  if (chdir(r) < 0) die_with_error("chdir %s", r);
  if (syscall(SYS_pivot_root, ".", ".") < 0) die_with_error("pivot_root %s", r);
  if (umount2(".", MNT_DETACH) < 0) die_with_error("detach the host's root");
  if (chdir("/") < 0) die_with_error("chdir /");
}
