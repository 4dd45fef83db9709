/* Small helpers shared by dockside-sandbox and dockside-init, in the style of bubblewrap's utils.h. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* Exit codes, documented in native/README.md. */
enum {
  EXIT_FAILED = 1,      /* a step failed */
  EXIT_USAGE = 2,       /* bad arguments */
  EXIT_NOT_FOUND = 3,   /* no such sandbox */
  EXIT_EXISTS = 4,      /* sandbox or id range already in use */
  EXIT_NOT_RUNNING = 5, /* the sandbox is stopped, or nothing listens on the port */
  EXIT_NO_SPACE = 6,    /* the host cannot hold the sandbox's disk */
};

/* The descriptor on which dockside-init receives the engine's API socket, and hands it to dockerd. */
#define ENGINE_FD 3

extern const char *current_command;

__attribute__((noreturn, format(printf, 2, 3))) void die_with_code(int code, const char *fmt, ...);
/* "dockside-sandbox: CMD: <message>: <strerror(errno)>" and exit 1. */
__attribute__((noreturn, format(printf, 1, 2))) void die_with_error(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void warn_msg(const char *fmt, ...);

__attribute__((format(printf, 1, 2))) char *xasprintf(const char *fmt, ...);
void *xcalloc(size_t n, size_t size);

static inline void cleanup_freep(void *p) { free(*(void **)p); }
static inline void cleanup_fdp(int *fd) {
  if (*fd >= 0) close(*fd);
}
#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_fd __attribute__((cleanup(cleanup_fdp)))

/* Writes a whole string to a file (created 0644 if missing); returns -1 with errno on failure. */
int write_file_at(const char *path, const char *content);
void write_file_or_die(const char *path, const char *content);
/* Reads a whole (small) file; NULL with errno on failure. */
char *read_file(const char *path);
void mkdir_p(const char *path, mode_t mode);
bool path_exists(const char *path);
/* Removes a directory tree without crossing mount points or following links. */
int remove_tree(const char *path);
ssize_t write_all(int fd, const void *buf, size_t len);
