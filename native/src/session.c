/* `session`: a terminal that outlives whoever started it. A holder process joins the sandbox (its
 * namespaces and cgroup, as its root), opens a pty in the sandbox's own devpts, starts the command on it
 * and keeps the master, with the last SCROLLBACK bytes of output. Clients (the server, after any number
 * of restarts) attach through a socket that host root made in the sandbox's run directory, where nothing
 * inside can reach it; the holder is in no pid namespace of the sandbox, so nothing inside can see it.
 *
 * Frames both ways: 1 byte type, 4 bytes big-endian length, payload (at most MAX_FRAME).
 *   client -> holder: 'i' input, 'r' resize (cols, rows: 2 bytes each), 'h' hang up
 *   holder -> client: 's' scrollback (on attach), 'l' live from here (empty), 'o' output, 'x' exit (4 bytes)
 */
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

/* A client this far behind stops the pty being read (the program waits, as on a slow terminal)... */
#define CLIENT_HIGH (1024 * 1024)
/* ...and input waiting for the program this long stops clients being read. */
#define INPUT_HIGH (1024 * 1024)
#define HANGUP_GRACE_MS 2000

void buf_add(buf_t *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) die("out of memory");
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void buf_drop(buf_t *b, size_t n) {
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

void buf_free(buf_t *b) {
  free(b->data);
  *b = (buf_t){0};
}

void frame_add(buf_t *b, char type, const void *p, size_t n) {
  unsigned char h[5] = {(unsigned char)type, (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                        (unsigned char)n};
  buf_add(b, h, sizeof h);
  buf_add(b, p, n);
}

long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void ring_add(holder_t *h, const char *p, size_t n) {
  if (n >= SCROLLBACK) p += n - SCROLLBACK, n = SCROLLBACK;
  size_t first = SCROLLBACK - h->ring_at < n ? SCROLLBACK - h->ring_at : n;
  memcpy(h->ring + h->ring_at, p, first);
  memcpy(h->ring, p + first, n - first);
  h->ring_at = (h->ring_at + n) % SCROLLBACK;
  h->ring_len = h->ring_len + n > SCROLLBACK ? SCROLLBACK : h->ring_len + n;
}

static void client_close(client_t *c) {
  close(c->fd);
  buf_free(&c->in);
  buf_free(&c->out);
  c->fd = -1;
}

/* A new client gets the scrollback (from a character boundary: a cut UTF-8 sequence is skipped), then live. */
static void client_attach(holder_t *h, int fd) {
  client_t *c = NULL;
  for (int n = 0; n < MAX_CLIENTS && !c; n++)
    if (h->clients[n].fd < 0) c = &h->clients[n];
  if (!c) {
    close(fd);
    return;
  }
  *c = (client_t){.fd = fd};
  size_t start = (h->ring_at + SCROLLBACK - h->ring_len) % SCROLLBACK, len = h->ring_len;
  while (len > 0 && ((unsigned char)h->ring[start] & 0xc0) == 0x80) start = (start + 1) % SCROLLBACK, len--;
  while (len > 0) {
    size_t n = SCROLLBACK - start < len ? SCROLLBACK - start : len;
    if (n > MAX_FRAME) n = MAX_FRAME;
    frame_add(&c->out, 's', h->ring + start, n);
    start = (start + n) % SCROLLBACK;
    len -= n;
  }
  frame_add(&c->out, 'l', NULL, 0);
}

static void broadcast(holder_t *h, char type, const void *p, size_t n) {
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (h->clients[i].fd >= 0) frame_add(&h->clients[i].out, type, p, n);
}

/* Handles the whole frames a client has sent; false when it broke the protocol. */
static bool client_frames(holder_t *h, client_t *c) {
  while (c->in.len >= 5) {
    const unsigned char *f = (const unsigned char *)c->in.data;
    size_t n = (size_t)f[1] << 24 | (size_t)f[2] << 16 | (size_t)f[3] << 8 | f[4];
    if (n > MAX_FRAME) return false;
    if (c->in.len < 5 + n) break;
    if (f[0] == 'i') buf_add(&h->input, f + 5, n);
    else if (f[0] == 'r' && n == 4) {
      struct winsize ws = {.ws_col = (unsigned short)(f[5] << 8 | f[6]), .ws_row = (unsigned short)(f[7] << 8 | f[8])};
      if (ws.ws_col > 0 && ws.ws_row > 0) ioctl(h->master, TIOCSWINSZ, &ws); /* a refusal leaves the old size */
    } else if (f[0] == 'h') {
      kill(-h->child, SIGHUP);
      if (!h->hangup_at) h->hangup_at = now_ms() + HANGUP_GRACE_MS;
    } else return false;
    buf_drop(&c->in, 5 + n);
  }
  return true;
}

/* Sends what clients are owed, for at most a second, before the holder goes. */
static void flush_clients(holder_t *h) {
  long long until = now_ms() + 1000;
  for (int i = 0; i < MAX_CLIENTS; i++) {
    client_t *c = &h->clients[i];
    while (c->fd >= 0 && c->out.len > 0 && now_ms() < until) {
      ssize_t w = write(c->fd, c->out.data, c->out.len);
      if (w > 0) buf_drop(&c->out, (size_t)w);
      else if (w < 0 && errno == EAGAIN) poll(&(struct pollfd){.fd = c->fd, .events = POLLOUT}, 1, 100);
      else break;
    }
  }
}

int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

__attribute__((noreturn)) void holder_loop(holder_t *h) {
  char buf[MAX_FRAME];
  for (;;) {
    bool behind = false;
    for (int i = 0; i < MAX_CLIENTS; i++)
      if (h->clients[i].fd >= 0 && h->clients[i].out.len > CLIENT_HIGH) behind = true;
    struct pollfd p[3 + MAX_CLIENTS];
    p[0] = (struct pollfd){.fd = h->sig_fd, .events = POLLIN};
    p[1] = (struct pollfd){.fd = h->listen_fd, .events = POLLIN};
    p[2] = (struct pollfd){.fd = h->master_hup ? -1 : h->master, .events = (short)((behind ? 0 : POLLIN) | (h->input.len ? POLLOUT : 0))};
    for (int i = 0; i < MAX_CLIENTS; i++) {
      client_t *c = &h->clients[i];
      p[3 + i] = (struct pollfd){.fd = c->fd,
                                 .events = (short)((h->input.len < INPUT_HIGH ? POLLIN : 0) | (c->out.len ? POLLOUT : 0))};
    }
    int timeout = h->hangup_at ? (int)(h->hangup_at - now_ms() > 0 ? h->hangup_at - now_ms() : 0) : -1;
    if (poll(p, 3 + MAX_CLIENTS, timeout) < 0) {
      if (errno == EINTR) continue;
      die_with_error("poll");
    }
    if (h->hangup_at && now_ms() >= h->hangup_at) {
      /* It ignored the hang-up: what a closed terminal window does next. */
      kill(-h->child, SIGKILL);
      h->hangup_at = 0;
    }
    if (p[2].revents & POLLIN) {
      ssize_t n = read(h->master, buf, sizeof buf);
      if (n > 0) {
        ring_add(h, buf, (size_t)n);
        broadcast(h, 'o', buf, (size_t)n);
      }
    }
    else if (p[2].revents & (POLLHUP | POLLERR)) h->master_hup = true;
    if ((p[2].revents & POLLOUT) && h->input.len) {
      ssize_t n = write(h->master, h->input.data, h->input.len);
      if (n > 0) buf_drop(&h->input, (size_t)n);
    }
    if (p[1].revents & POLLIN) {
      int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) client_attach(h, fd);
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
      client_t *c = &h->clients[i];
      if (c->fd < 0 || !p[3 + i].revents || p[3 + i].fd != c->fd) continue;
      if (p[3 + i].revents & POLLOUT) {
        ssize_t w = write(c->fd, c->out.data, c->out.len);
        if (w > 0) buf_drop(&c->out, (size_t)w);
        else if (w < 0 && errno != EAGAIN) {
          client_close(c);
          continue;
        }
      }
      if (p[3 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n > 0) {
          buf_add(&c->in, buf, (size_t)n);
          if (!client_frames(h, c)) client_close(c);
        } else if (n == 0 || errno != EAGAIN) client_close(c);
      }
    }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(h->sig_fd, &si, sizeof si) < 0 && errno != EAGAIN) die_with_error("read signalfd");
      int status;
      pid_t done;
      while ((done = waitpid(-1, &status, WNOHANG)) > 0) {
        if (done != h->child) continue;
        /* What the program printed last is still in the master: keep it before going. */
        ssize_t n;
        while ((n = read(h->master, buf, sizeof buf)) > 0) {
          ring_add(h, buf, (size_t)n);
          broadcast(h, 'o', buf, (size_t)n);
        }
        unsigned char code[4] = {0, 0, 0, (unsigned char)exit_code(status)};
        broadcast(h, 'x', code, sizeof code);
        flush_clients(h);
        _exit(0);
      }
    }
  }
}

void start_program(holder_t *h, const state_t *st, const session_args_t *a) {
  /* O_NONBLOCK: whatever the sandbox put at /dev/ptmx, opening it cannot hang us. */
  h->master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (h->master < 0) die_with_error("open /dev/ptmx of sandbox %s", st->id);
  struct stat sb;
  if (fstat(h->master, &sb) < 0 || !S_ISCHR(sb.st_mode)) die("/dev/ptmx of sandbox %s is not a terminal", st->id);
  int unlock = 0;
  if (ioctl(h->master, TIOCSPTLCK, &unlock) < 0) die_with_error("unlock the pty of sandbox %s", st->id);
  struct winsize ws = {.ws_col = a->cols, .ws_row = a->rows};
  if (ioctl(h->master, TIOCSWINSZ, &ws) < 0) die_with_error("size the pty");
  /* The peer through the master itself: no path a sandbox could have replaced. */
  int slave = ioctl(h->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) die_with_error("open the pty's terminal");

  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0) die_with_error("sigprocmask");
  h->sig_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (h->sig_fd < 0) die_with_error("signalfd");

  /* Closed by a successful exec; what a failed one says arrives here. */
  int execd[2];
  if (pipe2(execd, O_CLOEXEC) < 0) die_with_error("pipe");
  h->child = fork();
  if (h->child < 0) die_with_error("fork");
  if (h->child == 0) {
    if (dup3(execd[1], 3, O_CLOEXEC) < 0 || dup2(3, 2) < 0) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    if (setsid() < 0) die_with_error("setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0) die_with_error("take the terminal");
    if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0) die_with_error("dup2 the terminal");
    if (close_range(4, ~0u, 0) < 0) die_with_error("close descriptors");
    const char *dir = a->cwd ? a->cwd : "/root";
    if (chdir(dir) < 0) die_with_error("cd %s", dir);
    command_environ(st, &a->env);
    setenv("TERM", "xterm-256color", 1);
    /* The program's stderr is the terminal; a failed exec reports on the pipe instead. */
    if (dup2(0, 2) < 0) _exit(127);
    execvp(a->cmd[0], a->cmd);
    int why = errno;
    dup2(3, 2);
    die_with_code(127, "%s: %s", a->cmd[0], strerror(why));
  }
  close(slave);
  close(execd[1]);
  char report[512];
  ssize_t n;
  while ((n = read(execd[0], report, sizeof report - 1)) < 0 && errno == EINTR) {}
  close(execd[0]);
  if (n > 0) {
    (void)write_all(2, report, (size_t)n); /* already a dockside-sandbox line that names the step */
    _exit(EXIT_FAILED);
  }
}

bool answers(const char *path) {
  cleanup_fd int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  return fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
}

/* sandboxes/<id>/run/terminals/<name>.sock, made by host root (root:caller's group, 0660) in a directory
 * only root may change. Sockets of ended sessions are swept here: nobody else may remove them. */
static int session_socket(const char *id, const char *name) {
  cleanup_free char *sandbox = sandbox_dir(id);
  cleanup_free char *dir = xasprintf("%s/run/terminals", sandbox);
  if (mkdir(dir, 0750) < 0 && errno != EEXIST) die_with_error("mkdir %s", dir);
  if (chown(dir, 0, caller_gid()) < 0 || chmod(dir, 0750) < 0) die_with_error("chown %s", dir);
  cleanup_free char *path = xasprintf("%s/%s.sock", dir, name);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) die("the socket path %s is too long", path);
  if (path_exists(path) && answers(path)) die_with_code(EXIT_EXISTS, "sandbox %s already has a terminal %s", id, name);
  DIR *d = opendir(dir);
  if (!d) die_with_error("open %s", dir);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    cleanup_free char *old = xasprintf("%s/%s", dir, e->d_name);
    if (!answers(old) && unlink(old) < 0) die_with_error("remove the ended terminal %s", old);
  }
  closedir(d);
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die_with_error("socket");
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die_with_error("bind %s", path);
  if (chown(path, 0, caller_gid()) < 0 || chmod(path, 0660) < 0) die_with_error("chown %s", path);
  if (listen(fd, 16) < 0) die_with_error("listen %s", path);
  return fd;
}

int cmd_session(int argc, char **argv) {
  session_args_t a = {.cols = 80, .rows = 24};
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *opt = argv[i];
    char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(opt, "--cols")) a.cols = (unsigned short)uint_option(opt, v, 1, MAX_TERMINAL_SIZE);
    else if (!strcmp(opt, "--rows")) a.rows = (unsigned short)uint_option(opt, v, 1, MAX_TERMINAL_SIZE);
    else if (!strcmp(opt, "--cwd") && v) a.cwd = v;
    else if (!strcmp(opt, "--env") && v) parse_env_option(v, &a.env);
    else if (!strcmp(opt, "--cwd") || !strcmp(opt, "--env")) die_with_code(EXIT_USAGE, "%s needs a value", opt);
    else die_with_code(EXIT_USAGE, "unknown option %.40s", opt);
    i++;
  }
  if (i + 3 >= argc || strcmp(argv[i + 2], "--")) die_with_code(EXIT_USAGE, "session needs ID NAME -- CMD...");
  const char *id = argv[i], *name = argv[i + 1];
  a.cmd = argv + i + 3;
  if (!valid_terminal_name(name)) die_with_code(EXIT_USAGE, "invalid terminal name \"%.40s\": use [a-z0-9][a-z0-9-]{0,31}", name);
  state_t st = running_sandbox(id);
  cleanup_fd int listen_fd = session_socket(id, name);

  /* The holder reports on this pipe: its errors until the program runs, then one byte and EOF. */
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) die_with_error("pipe");
  pid_t first = fork();
  if (first < 0) die_with_error("fork");
  if (first == 0) {
    close(ready[0]);
    if (setsid() < 0) die_with_error("setsid");
    pid_t holder = fork();
    if (holder < 0) die_with_error("fork");
    if (holder > 0) _exit(0);
    /* The holder: nothing of the caller's (its stdout is the server's pipe); errors go to `ready`. */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(ready[1], 2) < 0) die_with_error("redirect stdio");
    prctl(PR_SET_NAME, "dockside-term");
    holder_t *h = xcalloc(1, sizeof *h);
    h->listen_fd = listen_fd;
    for (int n = 0; n < MAX_CLIENTS; n++) h->clients[n].fd = -1;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    cgroups_enter_terminal(&st, getpid());
    join_sandbox(&st, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP, false);
    start_program(h, &st, &a);
    if (write_all(ready[1], "+", 1) < 0 || dup2(null, 2) < 0) _exit(1);
    close(ready[1]);
    close(null);
    holder_loop(h);
  }
  close(ready[1]);
  int status;
  while (waitpid(first, &status, 0) < 0)
    if (errno != EINTR) die_with_error("wait");
  char report[1024];
  size_t got = 0;
  for (;;) {
    struct pollfd p = {.fd = ready[0], .events = POLLIN};
    int r = poll(&p, 1, 10000);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die("the terminal %s of sandbox %s did not start in 10 s", name, id);
    ssize_t n = read(ready[0], report + got, sizeof report - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || (got += (size_t)n) >= sizeof report - 1) break;
  }
  close(ready[0]);
  report[got] = 0;
  if (got > 0 && report[got - 1] == '+') return 0;
  /* The holder's own message already names the step (it is a dockside-sandbox line). */
  fputs(got ? report : "dockside-sandbox: session: the terminal's holder ended before it started\n", stderr);
  return EXIT_FAILED;
}
