/* The sandbox's disk: one sparse ext4 image of its --disk size, holding everything the sandbox can
 * write to disk (the root filesystem's upper layer and /var/lib/docker), attached to a loop device.
 * `create` first checks that the host can hold it. */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define DISK_IMAGE "disk.img"
#define GiB (1024.0 * 1024 * 1024)

/* What a sandbox's disk may still grow by: its size less what it already holds. */
static uint64_t growth_left(const char *id, uint64_t size) {
  cleanup_free char *dir = sandbox_dir(id);
  cleanup_free char *img = xasprintf("%s/" DISK_IMAGE, dir);
  struct stat st;
  if (stat(img, &st) < 0) return size;
  uint64_t used = (uint64_t)st.st_blocks * 512;
  return used >= size ? 0 : size - used;
}

void disk_check_space(const char *new_id, uint64_t size) {
  cleanup_free char *root = xasprintf("%s/sandboxes", data_dir());
  struct statvfs fs;
  if (statvfs(root, &fs) < 0) die_with_error("statvfs %s", root);
  uint64_t free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
  uint64_t total = (uint64_t)fs.f_blocks * fs.f_frsize;
  /* The host keeps 5% of its filesystem, at least 1 GiB, for itself. */
  uint64_t reserve = total / 20 > (1ull << 30) ? total / 20 : (1ull << 30);
  uint64_t promised = 0;
  DIR *d = opendir(root);
  for (struct dirent *e; d && (e = readdir(d));) {
    state_t other;
    if (e->d_name[0] == '.' || !valid_id(e->d_name) || !strcmp(e->d_name, new_id) || !state_load(e->d_name, &other))
      continue;
    promised += growth_left(e->d_name, other.limits.disk_bytes);
  }
  if (d) closedir(d);
  if (free_bytes < reserve || free_bytes - reserve < promised + size)
    die_with_code(EXIT_NO_SPACE,
                  "not enough disk for a sandbox of %.1f GiB: %.1f GiB are free, %.1f GiB are kept for the host and the "
                  "sandboxes here may still grow by %.1f GiB (give sandboxes less --disk, or free space under %s)",
                  size / GiB, free_bytes / GiB, reserve / GiB, promised / GiB, root);
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

int disk_attach(const char *dir, uid_t base_uid, uint64_t bytes, char **loop_dev) {
  cleanup_free char *img = xasprintf("%s/" DISK_IMAGE, dir);
  {
    cleanup_fd int fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) die_with_error("create %s", img);
    if (ftruncate(fd, (off_t)bytes) < 0) die_with_error("size %s", img);
  }
  cleanup_free char *owner = xasprintf("root_owner=%u:%u,lazy_itable_init=1,lazy_journal_init=1", base_uid, base_uid);
  const char *mkfs = path_exists("/sbin/mkfs.ext4") ? "/sbin/mkfs.ext4" : "/usr/sbin/mkfs.ext4";
  char *argv[] = {(char *)mkfs, "-q", "-F", "-m", "0", "-E", owner, img, NULL};
  run_or_die(argv);

  /* Opened through a detached copy of the sandbox's directory, the loop device's backing file reads
   * "/disk.img" in sysfs, not a host path that names the sandbox (every sandbox can read
   * /sys/block/loopN/loop/backing_file). */
  cleanup_fd int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) die_with_error("open_tree %s", dir);
  cleanup_fd int backing = openat(tree, DISK_IMAGE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (backing < 0) die_with_error("open %s", img);
  cleanup_fd int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) die_with_error("open /dev/loop-control");
  for (int attempt = 0; attempt < 20; attempt++) {
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) die_with_error("find a free loop device");
    char *dev = xasprintf("/dev/loop%d", n);
    int loop = open(dev, O_RDWR | O_CLOEXEC);
    if (loop < 0) die_with_error("open %s", dev);
    /* Detaches itself when its last user (the sandbox's mount) goes away. */
    struct loop_config cfg = {.fd = (unsigned)backing, .info = {.lo_flags = LO_FLAGS_AUTOCLEAR}};
    snprintf((char *)cfg.info.lo_file_name, sizeof cfg.info.lo_file_name, DISK_IMAGE);
    if (ioctl(loop, LOOP_CONFIGURE, &cfg) == 0) {
      *loop_dev = dev;
      return loop;
    }
    if (errno != EBUSY) die_with_error("attach %s to %s", img, dev);
    close(loop); /* another create took this one: try the next */
    free(dev);
  }
  die("no free loop device for %s", img);
}
