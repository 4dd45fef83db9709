/* `file`: the editor's file operations, done from outside without running anything of the sandbox's.
 * The sandbox's root directory is opened through /proc/PID/root; a child then becomes the sandbox's root
 * (run_inside joins only its user namespace) and resolves every path with openat2: the jail directory
 * (--under, default /workspace) with RESOLVE_IN_ROOT, everything below it with RESOLVE_BENEATH, so no
 * link can lead out of the jail, and no magic link (/proc/…/fd) is followed at all. */
#include "files.h"
#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define MAX_FILE_BYTES (1024 * 1024)
#define MAX_LIST_ENTRIES 20000
#define MAX_DEPTH 256

/* Exit codes of `file`, beside the runtime's own (native/README.md). */
enum { F_NOT_FOUND = 10, F_OUTSIDE = 11, F_WRONG_TYPE = 12, F_TOO_LARGE = 13, F_CONFLICT = 14, F_EXISTS = 15 };

static int resolve(int dirfd, const char *path, int flags, unsigned long long how_resolve) {
  struct open_how how = {.flags = (unsigned long long)flags | O_CLOEXEC, .resolve = how_resolve | RESOLVE_NO_MAGICLINKS};
  int fd;
  do fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

__attribute__((noreturn)) static void fail_path(const char *path, int err) {
  if (err == ENOENT) die_with_code(F_NOT_FOUND, "%s does not exist", path);
  if (err == EXDEV || err == ELOOP) die_with_code(F_OUTSIDE, "%s leads outside its folder (links out are not followed)", path);
  if (err == ENOTDIR || err == EISDIR) die_with_code(F_WRONG_TYPE, "%s is not of the right type", path);
  errno = err;
  die_with_error("%s", path);
}

/* Opens `rel` below the jail; "" is the jail itself. */
static int open_below(int jail, const char *rel, int flags) {
  int fd = resolve(jail, *rel ? rel : ".", flags, RESOLVE_BENEATH);
  if (fd < 0) fail_path(rel, errno);
  return fd;
}

/* The directory holding `rel` and its last component. */
static int open_parent(int jail, const char *rel, const char **name) {
  const char *slash = strrchr(rel, '/');
  *name = slash ? slash + 1 : rel;
  if (!slash) return open_below(jail, "", O_PATH | O_DIRECTORY);
  cleanup_free char *dir = strndup(rel, (size_t)(slash - rel));
  if (!dir) die("out of memory");
  return open_below(jail, dir, O_PATH | O_DIRECTORY);
}

static char type_letter(mode_t m) {
  return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : 'o';
}

static int op_list(int jail, const char *rel) {
  int fd = open_below(jail, rel, O_RDONLY | O_DIRECTORY);
  DIR *d = fdopendir(fd);
  if (!d) die_with_error("open %s", rel);
  int n = 0;
  for (struct dirent *e; n < MAX_LIST_ENTRIES && (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat st;
    if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    printf("%c\t%lld\t%lld.%09ld\t%s%c", type_letter(st.st_mode), (long long)st.st_size, (long long)st.st_mtim.tv_sec,
           st.st_mtim.tv_nsec, e->d_name, 0);
    n++;
  }
  closedir(d);
  return 0;
}

/* The sha256 of a regular file's content, at most MAX_FILE_BYTES; false if it is not one. */
static bool hash_file(int fd, char hex[65], bool copy_to_stdout) {
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) return false;
  if (st.st_size > MAX_FILE_BYTES) die_with_code(F_TOO_LARGE, "the file is larger than 1 MiB");
  sha256_t s;
  sha256_init(&s);
  char buf[65536];
  size_t total = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die_with_error("read");
    if (r == 0) break;
    total += (size_t)r;
    if (total > MAX_FILE_BYTES) die_with_code(F_TOO_LARGE, "the file is larger than 1 MiB");
    sha256_update(&s, buf, (size_t)r);
    if (copy_to_stdout && write_all(1, buf, (size_t)r) < 0) die_with_error("write");
  }
  sha256_hex(&s, hex);
  return true;
}

static int op_read(int jail, const char *rel) {
  cleanup_fd int fd = open_below(jail, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  char hex[65];
  if (!hash_file(fd, hex, true)) die_with_code(F_WRONG_TYPE, "%s is not a regular file", rel);
  return 0;
}

static int op_write(int jail, const char *rel, const char *if_match) {
  if (!*rel) die_with_code(F_WRONG_TYPE, "the folder itself is not a file");
  const char *name;
  cleanup_fd int dir = open_parent(jail, rel, &name);
  struct stat cur_st;
  bool exists = false;
  char cur[65] = "missing";
  {
    cleanup_fd int cur_fd = resolve(jail, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, RESOLVE_BENEATH);
    if (cur_fd < 0 && errno != ENOENT) fail_path(rel, errno);
    if (cur_fd >= 0) {
      if (fstat(cur_fd, &cur_st) < 0) die_with_error("stat %s", rel);
      if (S_ISDIR(cur_st.st_mode)) die_with_code(F_WRONG_TYPE, "%s is a folder", rel);
      exists = S_ISREG(cur_st.st_mode);
      if (if_match && exists) hash_file(cur_fd, cur, false);
    }
  }
  if (if_match && strcmp(if_match, cur)) {
    fputs(cur, stdout);
    die_with_code(F_CONFLICT, "%s changed since it was read", rel);
  }
  char tmp[64];
  snprintf(tmp, sizeof tmp, ".dockside-save.%d", (int)getpid());
  cleanup_fd int out = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0) die_with_error("create %s", tmp);
  sha256_t s;
  sha256_init(&s);
  char buf[65536];
  size_t total = 0;
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die_with_error("read the new content");
    if (r == 0) break;
    total += (size_t)r;
    if (total > MAX_FILE_BYTES || write_all(out, buf, (size_t)r) < 0) {
      int err = errno;
      unlinkat(dir, tmp, 0);
      if (total > MAX_FILE_BYTES) die_with_code(F_TOO_LARGE, "a file in the editor can be at most 1 MiB");
      errno = err;
      die_with_error("write %s", rel);
    }
    sha256_update(&s, buf, (size_t)r);
  }
  /* An existing file keeps its mode and owner (a script stays executable). */
  if (exists && (fchmod(out, cur_st.st_mode & 07777) < 0 || fchown(out, cur_st.st_uid, cur_st.st_gid) < 0))
    warn_msg("keep the mode of %s: %s", rel, strerror(errno));
  if (renameat(dir, tmp, dir, name) < 0) {
    int err = errno;
    unlinkat(dir, tmp, 0);
    fail_path(rel, err);
  }
  char hex[65];
  sha256_hex(&s, hex);
  puts(hex);
  return 0;
}

static int op_create(int jail, const char *rel, const char *type) {
  if (!*rel) die_with_code(F_EXISTS, "the folder already exists");
  const char *name;
  cleanup_fd int dir = open_parent(jail, rel, &name);
  if (!strcmp(type, "dir")) {
    if (mkdirat(dir, name, 0755) < 0) {
      if (errno == EEXIST) die_with_code(F_EXISTS, "%s already exists", rel);
      die_with_error("mkdir %s", rel);
    }
    return 0;
  }
  int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) die_with_code(F_EXISTS, "%s already exists", rel);
    die_with_error("create %s", rel);
  }
  close(fd);
  return 0;
}

static int op_rename(int jail, const char *from, const char *to) {
  if (!*from) die_with_code(F_OUTSIDE, "the folder itself cannot be renamed");
  if (!*to) die_with_code(F_EXISTS, "the folder already exists");
  const char *a, *b;
  cleanup_fd int da = open_parent(jail, from, &a);
  cleanup_fd int db = open_parent(jail, to, &b);
  if (syscall(SYS_renameat2, da, a, db, b, RENAME_NOREPLACE) < 0) {
    if (errno == EEXIST) die_with_code(F_EXISTS, "%s already exists", to);
    fail_path(from, errno);
  }
  return 0;
}

/* rm -rf without following any link. */
static void remove_at(int dir, const char *name, int depth) {
  if (depth > MAX_DEPTH) die("more than %d folders deep", MAX_DEPTH);
  if (unlinkat(dir, name, 0) == 0) return;
  if (errno != EISDIR && errno != EPERM) die_with_error("remove %s", name);
  int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) die_with_error("open %s", name);
  DIR *d = fdopendir(fd);
  if (!d) die_with_error("open %s", name);
  for (struct dirent *e; (e = readdir(d));)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) remove_at(fd, e->d_name, depth + 1);
  closedir(d);
  if (unlinkat(dir, name, AT_REMOVEDIR) < 0) die_with_error("remove %s", name);
}

static int op_remove(int jail, const char *rel) {
  if (!*rel) die_with_code(F_WRONG_TYPE, "the folder itself cannot be deleted");
  const char *name;
  cleanup_fd int dir = open_parent(jail, rel, &name);
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) fail_path(rel, errno);
  remove_at(dir, name, 0);
  return 0;
}

int file_inside(const state_t *st, void *arg) {
  (void)st;
  const file_args_t *a = arg;
  cleanup_fd int jail = resolve(a->root, a->under, O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT);
  if (jail < 0) fail_path(a->under, errno);
  if (!strcmp(a->op, "list")) return op_list(jail, a->path);
  if (!strcmp(a->op, "read")) return op_read(jail, a->path);
  if (!strcmp(a->op, "write")) return op_write(jail, a->path, a->arg);
  if (!strcmp(a->op, "create")) return op_create(jail, a->path, a->arg);
  if (!strcmp(a->op, "rename")) return op_rename(jail, a->path, a->path2);
  return op_remove(jail, a->path);
}

const char *below(const char *under, const char *path) {
  if (!clean_path(path)) die_with_code(EXIT_USAGE, "path \"%.80s\" is not absolute and normalised", path);
  if (!strcmp(under, "/")) return path + 1;
  size_t n = strlen(under);
  if (strncmp(path, under, n) || (path[n] != '/' && path[n] != '\0'))
    die_with_code(F_OUTSIDE, "%.80s is outside %s", path, under);
  return path[n] ? path + n + 1 : "";
}

int cmd_file(int argc, char **argv) {
  static const char usage[] = "file ID list|read|remove PATH | write PATH [--if-match ETAG] | create PATH file|dir | "
                              "rename FROM TO, with [--under DIR] first";
  file_args_t a = {.under = "/workspace"};
  int i = 1;
  if (i + 1 < argc && !strcmp(argv[i], "--under")) a.under = argv[++i], i++;
  if (!clean_path(a.under)) die_with_code(EXIT_USAGE, "--under needs an absolute, normalised path");
  if (argc - i < 3) die_with_code(EXIT_USAGE, "%s", usage);
  const char *id = argv[i++];
  a.op = argv[i++];
  a.path = below(a.under, argv[i++]);
  int rest = argc - i;
  if (!strcmp(a.op, "list") || !strcmp(a.op, "read") || !strcmp(a.op, "remove")) {
    if (rest) die_with_code(EXIT_USAGE, "%s", usage);
  } else if (!strcmp(a.op, "write")) {
    if (rest == 2 && !strcmp(argv[i], "--if-match")) a.arg = argv[i + 1];
    else if (rest) die_with_code(EXIT_USAGE, "%s", usage);
    if (a.arg && strcmp(a.arg, "missing") && (strlen(a.arg) != 64 || strspn(a.arg, "0123456789abcdef") != 64))
      die_with_code(EXIT_USAGE, "--if-match needs a sha256 in hex, or missing");
  } else if (!strcmp(a.op, "create")) {
    if (rest != 1 || (strcmp(argv[i], "file") && strcmp(argv[i], "dir"))) die_with_code(EXIT_USAGE, "%s", usage);
    a.arg = argv[i];
  } else if (!strcmp(a.op, "rename")) {
    if (rest != 1) die_with_code(EXIT_USAGE, "%s", usage);
    a.path2 = below(a.under, argv[i]);
  } else die_with_code(EXIT_USAGE, "unknown file operation %.20s; %s", a.op, usage);

  state_t st = running_sandbox(id);
  cleanup_free char *root_path = xasprintf("/proc/%d/root", (int)st.pid);
  cleanup_fd int root = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die_with_error("open %s", root_path);
  a.root = root;
  /* The pid could have been reused between loading the state and opening its root. */
  if (!state_running(&st)) die_with_code(EXIT_NOT_RUNNING, "sandbox %s is not running", id);
  return run_inside(&st, 0, false, file_inside, &a, SIGKILL);
}
