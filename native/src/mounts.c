/* The sandbox's filesystem. The parent (real root, in a private mount namespace) mounts the shared
 * base image idmapped and read-only, the overlay with the sandbox's own upper dir, and the sandbox's
 * ext4 disk image for /var/lib/docker. The child (root of the sandbox's user namespace) adds proc, sys,
 * cgroups, a minimal /dev, /run and /tmp, and pivots into it. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

static void run_or_die(char *const argv[]) {
  pid_t pid = fork();
  if (pid < 0) die_with_error("fork for %s", argv[0]);
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);
    execv(argv[0], argv);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) < 0) die_with_error("wait for %s", argv[0]);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("%s failed (status %d)", argv[0], status);
}

/* A sparse ext4 image of the quota's size, owned by the sandbox's root, attached to a free loop device
 * that detaches itself when its last user goes away: the caller keeps *loop_fd open until it has
 * mounted the device. Returns the loop device path. */
static char *attach_disk(const char *dir, uid_t base_uid, uint64_t bytes, int *loop_fd) {
  cleanup_free char *img = xasprintf("%s/docker.img", dir);
  {
    cleanup_fd int fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) die_with_error("create %s", img);
    if (ftruncate(fd, (off_t)bytes) < 0) die_with_error("size %s", img);
  }
  cleanup_free char *owner = xasprintf("root_owner=%u:%u,lazy_itable_init=1,lazy_journal_init=1", base_uid, base_uid);
  const char *mkfs = path_exists("/sbin/mkfs.ext4") ? "/sbin/mkfs.ext4" : "/usr/sbin/mkfs.ext4";
  char *argv[] = {(char *)mkfs, "-q", "-F", "-m", "0", "-E", owner, img, NULL};
  run_or_die(argv);

  cleanup_fd int backing = open(img, O_RDWR | O_CLOEXEC);
  if (backing < 0) die_with_error("open %s", img);
  cleanup_fd int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) die_with_error("open /dev/loop-control");
  for (int attempt = 0; attempt < 20; attempt++) {
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) die_with_error("find a free loop device");
    char *dev = xasprintf("/dev/loop%d", n);
    int loop = open(dev, O_RDWR | O_CLOEXEC);
    if (loop < 0) die_with_error("open %s", dev);
    struct loop_config cfg = {.fd = (unsigned)backing, .info = {.lo_flags = LO_FLAGS_AUTOCLEAR}};
    snprintf((char *)cfg.info.lo_file_name, sizeof cfg.info.lo_file_name, "%s", img);
    if (ioctl(loop, LOOP_CONFIGURE, &cfg) == 0) {
      *loop_fd = loop;
      return dev;
    }
    if (errno != EBUSY) die_with_error("attach %s to %s", img, dev);
    close(loop); /* another create took this one: try the next */
    free(dev);
  }
  die("no free loop device for %s", img);
}

void mounts_prepare_root(const char *dir, const char *base, const char *init_bin, pid_t userns_pid, uid_t base_uid,
                         uint64_t disk_bytes) {
  cleanup_free char *lower = xasprintf("%s/lower", dir);
  cleanup_free char *upper = xasprintf("%s/upper", dir);
  cleanup_free char *work = xasprintf("%s/work", dir);
  cleanup_free char *root = xasprintf("%s/rootfs", dir);
  cleanup_free char *run = xasprintf("%s/run", dir);
  const char *dirs[] = {lower, upper, work, root, run};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
    if (mkdir(dirs[i], 0700) < 0 && errno != EEXIST) die_with_error("mkdir %s", dirs[i]);
  if (chown(upper, base_uid, base_uid) < 0) die_with_error("chown %s", upper);
  if (chmod(upper, 0755) < 0 || chmod(root, 0755) < 0) die_with_error("chmod %s", upper);
  /* The engine's socket appears here; only the caller's group (the server's) may pass this dir. */
  if (chown(run, base_uid, caller_gid()) < 0 || chmod(run, 0750) < 0) die_with_error("chown %s", run);

  /* The shared base image, shifted to the sandbox's ids, read-only: no copy per sandbox. */
  cleanup_free char *ns = xasprintf("/proc/%d/ns/user", (int)userns_pid);
  cleanup_fd int userns = open(ns, O_RDONLY | O_CLOEXEC);
  if (userns < 0) die_with_error("open %s", ns);
  cleanup_fd int tree = sys_open_tree(AT_FDCWD, base, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) die_with_error("open_tree %s", base);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY, .userns_fd = (uint64_t)userns};
  if (sys_mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    die_with_error("idmap %s (needs Linux 5.19+ and a filesystem with idmapped mounts)", base);
  if (sys_move_mount(tree, "", AT_FDCWD, lower, MOVE_MOUNT_F_EMPTY_PATH) < 0) die_with_error("move_mount %s", lower);

  cleanup_free char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
  do_mount("overlay", root, "overlay", 0, opts);

  /* /var/lib/docker on its own disk: overlay2 cannot use an overlay as its upper dir, and the disk's
   * size is the sandbox's quota. */
  cleanup_free char *docker = xasprintf("%s/var/lib/docker", root);
  if (mkdir(docker, 0710) < 0 && errno != EEXIST) die_with_error("mkdir %s", docker);
  cleanup_fd int loop_fd = -1;
  cleanup_free char *loop = attach_disk(dir, base_uid, disk_bytes, &loop_fd);
  do_mount(loop, docker, "ext4", MS_NOSUID | MS_NODEV, NULL);

  /* /run, with what the host lends the sandbox, bound here by host root so that no host directory
   * has to be open to the sandbox's ids. */
  cleanup_free char *sandbox_run = xasprintf("%s/run", root);
  cleanup_free char *run_opts = xasprintf("mode=755,size=65536k,uid=%u,gid=%u", base_uid, base_uid);
  do_mount("tmpfs", sandbox_run, "tmpfs", MS_NOSUID | MS_NODEV, run_opts);
  /* The engine's API socket appears in the host-side run dir, for the server. */
  cleanup_free char *docker_host = xasprintf("%s/docker-host", sandbox_run);
  if (mkdir(docker_host, 0755) < 0) die_with_error("mkdir %s", docker_host);
  bind(run, docker_host, false);
  cleanup_free char *dockside = xasprintf("%s/dockside", sandbox_run);
  if (mkdir(dockside, 0755) < 0) die_with_error("mkdir %s", dockside);
  cleanup_free char *init = xasprintf("%s/init", dockside);
  touch_file(init);
  bind(init_bin, init, true);
  /* Unix sockets of services the sandbox may reach (the registry), read-only. */
  cleanup_fd int forward_src = open_forward_dir();
  if (forward_src >= 0) {
    cleanup_free char *forward = xasprintf("%s/forward", dockside);
    if (mkdir(forward, 0755) < 0) die_with_error("mkdir %s", forward);
    cleanup_free char *src = xasprintf("/proc/self/fd/%d", forward_src);
    bind(src, forward, true);
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

static void mount_cgroups(const char *root, bool v1) {
  cleanup_free char *cg = xasprintf("%s/sys/fs/cgroup", root);
  if (v1) {
    /* Every v1 controller the host has, rooted at this sandbox's cgroup by the cgroup namespace, so
     * the engine inside can set per-container limits. */
    do_mount("tmpfs", cg, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
    static const char *const ctrls[] = {"memory", "pids", "cpu", "cpuacct", "cpuset", "blkio", "devices", "freezer", NULL};
    for (int i = 0; ctrls[i]; i++) {
      cleanup_free char *host = xasprintf("/sys/fs/cgroup/%s", ctrls[i]);
      if (!path_exists(host)) continue;
      cleanup_free char *dst = xasprintf("%s/%s", cg, ctrls[i]);
      if (mkdir(dst, 0755) < 0 && errno != EEXIST) die_with_error("mkdir %s", dst);
      do_mount("cgroup", dst, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, ctrls[i]);
    }
    cleanup_free char *cpu = xasprintf("%s/cpu,cpuacct", cg);
    if (symlink("cpu", cpu) < 0 && errno != EEXIST) die_with_error("symlink %s", cpu);
    return;
  }
  do_mount("cgroup2", cg, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
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
