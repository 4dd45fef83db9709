/* The held terminal of session.c, shared by `dockside-sandbox session` and dockside-agent (whose
 * `session` request starts the same holder in place, already the sandbox's root): the frames, the
 * holder's state and the holder itself. */
#pragma once
#include "sandbox.h"

#define SCROLLBACK (256 * 1024)
#define MAX_FRAME (64 * 1024)
#define MAX_CLIENTS 8

typedef struct {
  char *data;
  size_t len, cap;
} buf_t;

void buf_add(buf_t *b, const void *p, size_t n);
void buf_free(buf_t *b);
/* One frame: 1 type byte, 4-byte big-endian length, payload (at most MAX_FRAME). */
void frame_add(buf_t *b, char type, const void *p, size_t n);

typedef struct {
  int fd;
  buf_t in, out;
} client_t;

typedef struct {
  int listen_fd, master, sig_fd;
  pid_t child;
  client_t clients[MAX_CLIENTS];
  /* The scrollback ring: `ring_len` bytes ending just before `ring_at`. */
  char ring[SCROLLBACK];
  size_t ring_at, ring_len;
  buf_t input;
  long long hangup_at; /* ms; 0 when no hang-up is pending */
  bool master_hup;     /* nothing has the terminal open any more (the program closed it, and lives on) */
} holder_t;

typedef struct {
  const char *name;
  const char *cwd;
  unsigned short cols, rows;
  env_list_t env;
  char **cmd;
} session_args_t;

/* CLOCK_MONOTONIC in ms. */
long long now_ms(void);
/* A wait status as a shell reports it: the exit code, or 128 + the signal. */
int exit_code(int status);
/* Whether something accepts connections on the unix socket at `path` (a live holder). */
bool answers(const char *path);
/* In the holder, as the sandbox's root: the pty from the sandbox's /dev/ptmx, the program on its peer.
 * A failed start writes its line to stderr and exits. */
void start_program(holder_t *h, const state_t *st, const session_args_t *a);
/* Serves the pty and the clients of h->listen_fd until the program exits, then exits. */
__attribute__((noreturn)) void holder_loop(holder_t *h);
