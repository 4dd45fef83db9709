#include "utils.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *current_command = "";

static void vmessage(const char *fmt, va_list ap, int err) {
  fprintf(stderr, "dockside-sandbox: %s%s", current_command, *current_command ? ": " : "");
  vfprintf(stderr, fmt, ap);
  if (err) fprintf(stderr, ": %s", strerror(err));
  fputc('\n', stderr);
}

void die_with_code(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap, 0);
  va_end(ap);
  exit(code);
}

void die_with_error(const char *fmt, ...) {
  int err = errno;
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap, err);
  va_end(ap);
  exit(EXIT_FAILED);
}

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap, 0);
  va_end(ap);
  exit(EXIT_FAILED);
}

void warn_msg(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap, 0);
  va_end(ap);
}

char *xasprintf(const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0) die("out of memory");
  va_end(ap);
  return s;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) die("out of memory");
  return p;
}

ssize_t write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  size_t left = len;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    left -= (size_t)n;
  }
  return (ssize_t)len;
}

int write_file_at(const char *path, const char *content) {
  cleanup_fd int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (write_all(fd, content, strlen(content)) < 0) return -1;
  return 0;
}

void write_file_or_die(const char *path, const char *content) {
  if (write_file_at(path, content) < 0) die_with_error("write %s", path);
}

char *read_file(const char *path) {
  cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = xcalloc(1, cap);
  for (;;) {
    if (len + 1 >= cap) {
      cap *= 2;
      char *n = realloc(buf, cap);
      if (!n) die("out of memory");
      buf = n;
    }
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      free(buf);
      return NULL;
    }
    if (r == 0) break;
    len += (size_t)r;
  }
  buf[len] = '\0';
  return buf;
}

void mkdir_p(const char *path, mode_t mode) {
  cleanup_free char *copy = strdup(path);
  if (!copy) die("out of memory");
  for (char *p = copy + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(copy, mode) < 0 && errno != EEXIST) die_with_error("mkdir %s", copy);
    *p = '/';
  }
  if (mkdir(copy, mode) < 0 && errno != EEXIST) die_with_error("mkdir %s", copy);
}

bool path_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  int r = (flag == FTW_DP) ? rmdir(path) : unlink(path);
  if (r < 0 && errno != ENOENT) warn_msg("remove %s: %s", path, strerror(errno));
  return 0;
}

int remove_tree(const char *path) {
  if (!path_exists(path)) return 0;
  return nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
