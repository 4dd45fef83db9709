/* dockside-agent: what the server reaches in a sandbox that runs as a Kubernetes pod, where there is no
 * host-side `dockside-sandbox` to enter it. One TCP port (the pod's, 7070); every connection first shows
 * the pod's secret, then asks for one thing:
 *
 *   exec ARGV...                       run a command as the sandbox's root (stdin in, stdout/stderr/exit out)
 *   file UNDER OP ARGS...              the editor's file operations: the same code as `dockside-sandbox file`
 *   session NAME COLS ROWS K=V... -- ARGV...   start a held terminal: the same holder as `dockside-sandbox session`
 *   sessions                           the names of the held terminals that answer
 *   attach NAME | docker | tcp PORT    a byte stream to a terminal's holder, the engine's API socket, or
 *                                      127.0.0.1:PORT (previews)
 *
 * Frames both ways as the session holder's: 1 type byte, 4-byte big-endian length, payload (at most 64 KiB).
 *   client: 'a' the secret, then 'c' the request (NUL-separated words); for exec/file, 'i' stdin, 'E' its end
 *   agent:  'k' a stream follows (raw bytes both ways from here), or 'o' stdout, 'e' stderr, 'x' exit (4 bytes)
 *
 * The held terminals and the file operations are session.c's and files.c's own code, linked in here
 * (session.h, files.h): inside a pod the agent already is the sandbox's root in the sandbox's namespaces, so
 * what `dockside-sandbox` does by entering is done in place. `dockside-agent pod` is a pod's entrypoint: it
 * makes the engine's socket, starts the agent, and becomes dockside-init. */
#include "files.h"
#include "session.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define AGENT_TERMINALS "/run/dockside-agent/terminals"
#define AGENT_DOCKER "/var/run/docker.sock"
#define AUTH_TIMEOUT_S 10
#define MAX_WORDS 1024

/* What cmd_file and cmd_session (linked in with files.c and session.c, never called here) need from the
 * host-side runtime. */
state_t running_sandbox(const char *id) { die("not available in the agent: %s", id); }
bool state_running(const state_t *st) { return st != NULL; }
int run_inside(const state_t *st, int nstypes, bool join_cgroup, int (*work)(const state_t *, void *), void *arg,
               int death_signal) {
  (void)nstypes, (void)join_cgroup, (void)death_signal;
  return work(st, arg);
}
void join_sandbox(const state_t *st, int nstypes, bool join_cgroup) { (void)st, (void)nstypes, (void)join_cgroup; }
char *sandbox_dir(const char *id) { die("not available in the agent: %s", id); }
gid_t caller_gid(void) { return 0; }
void cgroups_enter_terminal(const state_t *st, pid_t pid) { (void)st, (void)pid; }
static char agent_token[256];
static state_t agent_self; /* only its id (the host name) is used: the environment's HOSTNAME */

static bool read_exact(int fd, void *p, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = read(fd, (char *)p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += (size_t)r;
  }
  return true;
}

/* One frame of at most MAX_FRAME bytes into buf (NUL-terminated); its type, or 0 on EOF or a bad frame. */
static char read_frame(int fd, char *buf, size_t *len) {
  unsigned char h[5];
  if (!read_exact(fd, h, sizeof h)) return 0;
  size_t n = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
  if (n > MAX_FRAME || !read_exact(fd, buf, n)) return 0;
  buf[n] = 0;
  *len = n;
  return (char)h[0];
}

static void send_frame(int fd, char type, const void *p, size_t n) {
  buf_t b = {0};
  frame_add(&b, type, p, n);
  (void)write_all(fd, b.data, b.len);
  buf_free(&b);
}

/* The end of a framed answer. Closing a TCP socket with unread input (a caller's stdin we never needed)
 * sends a reset, which can destroy the answer still in flight: so half-close, and read until the caller
 * closes too (it does on the exit frame), for at most a few seconds. */
__attribute__((noreturn)) static void end_connection(int fd) {
  shutdown(fd, SHUT_WR);
  char sink[4096];
  for (long long until = now_ms() + 5000; now_ms() < until;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 500) < 0 && errno != EINTR) break;
    if (p.revents && read(fd, sink, sizeof sink) <= 0) break;
  }
  _exit(0);
}

/* An 'e' line then exit code `code`: how a request the agent refuses ends. */
__attribute__((noreturn)) static void refuse(int fd, int code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n > 0) send_frame(fd, 'e', msg, (size_t)(n >= (int)sizeof msg ? (int)sizeof msg - 1 : n));
  unsigned char c[4] = {0, 0, 0, (unsigned char)code};
  send_frame(fd, 'x', c, sizeof c);
  end_connection(fd);
}

/* Bytes both ways until both sides are done. */
__attribute__((noreturn)) static void splice_both(int a, int b) {
  char buf[MAX_FRAME];
  bool a_open = true, b_open = true;
  while (a_open || b_open) {
    struct pollfd p[2] = {{.fd = a_open ? a : -1, .events = POLLIN}, {.fd = b_open ? b : -1, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int from = i ? b : a, to = i ? a : b;
      ssize_t n = read(from, buf, sizeof buf);
      if (n > 0 && write_all(to, buf, (size_t)n) >= 0) continue;
      if (n < 0 && errno == EINTR) continue;
      shutdown(to, SHUT_WR);
      if (i) b_open = false;
      else a_open = false;
      if (n < 0 || (n > 0)) _exit(0); /* a reset or a failed write: the stream is over */
    }
  }
  _exit(0);
}

static int connect_unix(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
  if (fd >= 0) close(fd);
  return -1;
}

static void stream_to(int client, int target, const char *what) {
  if (target < 0) refuse(client, EXIT_NOT_RUNNING, "nothing answers at %s: %s", what, strerror(errno));
  send_frame(client, 'k', NULL, 0);
  splice_both(client, target);
}

/* Runs `work` in a child (its own process group, ended with the connection) whose stdin, stdout and stderr
 * are framed over the connection; answers its exit code. */
__attribute__((noreturn)) static void run_framed(int client, void (*work)(void *), void *arg) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) refuse(client, 1, "pipe failed");
  pid_t child = fork();
  if (child < 0) refuse(client, 1, "fork failed");
  if (child == 0) {
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(127);
    close_range(3, ~0u, 0);
    work(arg);
    _exit(127);
  }
  setpgid(child, child);
  close(in[0]), close(out[1]), close(err[1]);
  int to_child = in[1];
  bool out_open = true, err_open = true, client_open = true;
  char buf[MAX_FRAME + 1];
  while (out_open || err_open) {
    struct pollfd p[3] = {{.fd = out_open ? out[0] : -1, .events = POLLIN},
                          {.fd = err_open ? err[0] : -1, .events = POLLIN},
                          {.fd = client_open ? client : -1, .events = POLLIN}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(i ? err[0] : out[0], buf, MAX_FRAME);
      if (n > 0) send_frame(client, i ? 'e' : 'o', buf, (size_t)n);
      else if (n == 0 || errno != EINTR) {
        if (i) err_open = false;
        else out_open = false;
      }
    }
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      size_t n;
      char type = read_frame(client, buf, &n);
      if (type == 'i' && to_child >= 0) (void)write_all(to_child, buf, n);
      else if (type == 'E' && to_child >= 0) close(to_child), to_child = -1;
      else if (type == 0) {
        /* The caller went away: so does what it started. */
        kill(-child, SIGKILL);
        client_open = false;
      }
    }
  }
  if (to_child >= 0) close(to_child);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  kill(-child, SIGKILL); /* what it left running in its group */
  unsigned char c[4] = {0, 0, 0, (unsigned char)exit_code(status)};
  send_frame(client, 'x', c, sizeof c);
  end_connection(client);
}

static void exec_work(void *arg) {
  char **argv = arg;
  command_environ(&agent_self, &(env_list_t){0});
  if (chdir("/root") < 0 && chdir("/") < 0) _exit(127);
  execvp(argv[0], argv);
  die_with_code(127, "%s: %s", argv[0], strerror(errno));
}

/* cmd_file's argument checks, then its work on our own root. */
static void file_work(void *arg) {
  char **w = arg;
  current_command = "file";
  file_args_t a = {.under = w[0], .op = w[1]};
  if (!a.under || !clean_path(a.under) || !a.op || !w[2]) die_with_code(EXIT_USAGE, "file needs UNDER OP PATH");
  a.path = below(a.under, w[2]);
  if (!strcmp(a.op, "write") && w[3] && !strcmp(w[3], "--if-match") && w[4]) a.arg = w[4];
  else if (!strcmp(a.op, "create") && w[3] && (!strcmp(w[3], "file") || !strcmp(w[3], "dir"))) a.arg = w[3];
  else if (!strcmp(a.op, "rename") && w[3]) a.path2 = below(a.under, w[3]);
  else if (w[3] || !strcmp(a.op, "create") || !strcmp(a.op, "rename")) die_with_code(EXIT_USAGE, "bad arguments for file %.20s", a.op);
  else if (strcmp(a.op, "list") && strcmp(a.op, "read") && strcmp(a.op, "remove") && strcmp(a.op, "write"))
    die_with_code(EXIT_USAGE, "unknown file operation %.20s", a.op);
  if (a.arg && !strcmp(a.op, "write") && strcmp(a.arg, "missing") && !valid_hex_digest(a.arg))
    die_with_code(EXIT_USAGE, "--if-match needs a sha256 in hex, or missing");
  a.root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (a.root < 0) die_with_error("open /");
  exit(file_inside(&agent_self, &a));
}

/* AGENT_TERMINALS/<name>.sock, swept of ended sessions, as session_socket() does on the host. */
static int agent_session_socket(int client, const char *name) {
  mkdir_p(AGENT_TERMINALS, 0700);
  cleanup_free char *path = xasprintf("%s/%s.sock", AGENT_TERMINALS, name);
  if (path_exists(path) && answers(path)) refuse(client, EXIT_EXISTS, "sandbox already has a terminal %s", name);
  DIR *d = opendir(AGENT_TERMINALS);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    cleanup_free char *old = xasprintf("%s/%s", AGENT_TERMINALS, e->d_name);
    if (!answers(old)) unlink(old);
  }
  if (d) closedir(d);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0)
    refuse(client, 1, "cannot make the terminal's socket %s: %s", path, strerror(errno));
  return fd;
}

/* session NAME COLS ROWS K=V... -- ARGV...: a holder that outlives this connection (session.c's loop). */
__attribute__((noreturn)) static void start_session(int client, char **w) {
  session_args_t a = {0};
  uint64_t cols, rows;
  if (!w[0] || !valid_terminal_name(w[0])) refuse(client, EXIT_USAGE, "invalid terminal name");
  if (!w[1] || !w[2] || !parse_uint(w[1], 1, MAX_TERMINAL_SIZE, &cols) || !parse_uint(w[2], 1, MAX_TERMINAL_SIZE, &rows))
    refuse(client, EXIT_USAGE, "session needs NAME COLS ROWS");
  a.name = w[0], a.cols = (unsigned short)cols, a.rows = (unsigned short)rows;
  int i = 3;
  for (; w[i] && strcmp(w[i], "--"); i++)
    if (env_add(&a.env, w[i]) != ENV_OK) refuse(client, EXIT_USAGE, "bad environment variable");
  if (!w[i] || !w[i + 1]) refuse(client, EXIT_USAGE, "session needs -- CMD...");
  a.cmd = w + i + 1;
  int listen_fd = agent_session_socket(client, a.name);
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) refuse(client, 1, "pipe failed");
  pid_t first = fork();
  if (first == 0) {
    close(ready[0]);
    setsid();
    if (fork() != 0) _exit(0);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(ready[1], 2) < 0) _exit(1);
    close(client);
    prctl(PR_SET_NAME, "dockside-term");
    holder_t *h = xcalloc(1, sizeof *h);
    h->listen_fd = listen_fd;
    for (int n = 0; n < MAX_CLIENTS; n++) h->clients[n].fd = -1;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    start_program(h, &agent_self, &a);
    if (write_all(ready[1], "+", 1) < 0 || dup2(null, 2) < 0) _exit(1);
    close(ready[1]);
    holder_loop(h);
  }
  close(ready[1]);
  close(listen_fd);
  int status;
  while (first > 0 && waitpid(first, &status, 0) < 0 && errno == EINTR) {}
  char report[1024];
  size_t got = 0;
  ssize_t n;
  while (got < sizeof report - 1 && (n = read(ready[0], report + got, sizeof report - 1 - got)) != 0)
    if (n > 0) got += (size_t)n;
    else if (errno != EINTR) break;
  report[got] = 0;
  if (got > 0 && report[got - 1] == '+') refuse(client, 0, "%s", "");
  refuse(client, 1, "%s", got ? report : "the terminal's holder ended before it started");
}

__attribute__((noreturn)) static void list_sessions(int client) {
  buf_t names = {0};
  DIR *d = opendir(AGENT_TERMINALS);
  for (struct dirent *e; d && (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".sock")) continue;
    cleanup_free char *path = xasprintf("%s/%s", AGENT_TERMINALS, e->d_name);
    if (!answers(path)) continue;
    buf_add(&names, e->d_name, n - 5);
    buf_add(&names, "\n", 1);
  }
  if (d) closedir(d);
  if (names.len) send_frame(client, 'o', names.data, names.len);
  refuse(client, 0, "%s", "");
}

static bool same_secret(const char *given, size_t n) {
  size_t want = strlen(agent_token);
  unsigned char diff = (unsigned char)(n != want);
  for (size_t i = 0; i < want; i++) diff |= (unsigned char)(agent_token[i] ^ (i < n ? given[i] : 0));
  return diff == 0 && want > 0;
}

__attribute__((noreturn)) static void serve_connection(int client) {
  static char buf[MAX_FRAME + 1];
  size_t n;
  alarm(AUTH_TIMEOUT_S);
  if (read_frame(client, buf, &n) != 'a' || !same_secret(buf, n)) refuse(client, 126, "wrong or missing agent secret");
  if (read_frame(client, buf, &n) != 'c' || n == 0) refuse(client, EXIT_USAGE, "no request");
  alarm(0);
  static char *w[MAX_WORDS + 1];
  int count = 0;
  for (size_t at = 0; at < n && count < MAX_WORDS; at += strlen(buf + at) + 1) w[count++] = buf + at;
  w[count] = NULL;
  const char *op = w[0];
  if (!strcmp(op, "exec") && w[1]) run_framed(client, exec_work, w + 1);
  if (!strcmp(op, "file")) run_framed(client, file_work, w + 1);
  if (!strcmp(op, "session")) start_session(client, w + 1);
  if (!strcmp(op, "sessions")) list_sessions(client);
  if (!strcmp(op, "docker")) stream_to(client, connect_unix(AGENT_DOCKER), AGENT_DOCKER);
  if (!strcmp(op, "attach") && w[1] && valid_terminal_name(w[1])) {
    cleanup_free char *path = xasprintf("%s/%s.sock", AGENT_TERMINALS, w[1]);
    stream_to(client, connect_unix(path), path);
  }
  uint64_t port;
  if (!strcmp(op, "tcp") && w[1] && parse_uint(w[1], 1, 65535, &port)) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) close(fd), fd = -1;
    stream_to(client, fd, w[1]);
  }
  refuse(client, EXIT_USAGE, "unknown request %.40s", op);
}

/* A TCP port of the pod relayed to a service of the cluster (`HOST:PORT`, resolved at each connection, as
 * a Service's address may change): what dockside-init's forwarders are in a native sandbox, so the base
 * image's settings hold in a pod too (the registry mirror at 127.0.0.1:5000, the package proxy at the
 * bridge's gateway, 172.17.0.1:3128). */
static void start_forward(const char *spec) {
  char listen_part[64], host[256], port_s[8];
  uint64_t lport;
  const char *eq = strchr(spec, '=');
  const char *lcolon = eq ? memrchr(spec, ':', (size_t)(eq - spec)) : NULL;
  const char *tcolon = eq ? strrchr(eq, ':') : NULL;
  if (!eq || !lcolon || !tcolon || (size_t)(lcolon - spec) >= sizeof listen_part ||
      (size_t)(tcolon - eq - 1) >= sizeof host || strlen(tcolon + 1) >= sizeof port_s)
    die_with_code(EXIT_USAGE, "--forward needs ADDRESS:PORT=HOST:PORT, not %.80s", spec);
  snprintf(listen_part, sizeof listen_part, "%.*s", (int)(lcolon - spec), spec);
  snprintf(host, sizeof host, "%.*s", (int)(tcolon - eq - 1), eq + 1);
  snprintf(port_s, sizeof port_s, "%s", tcolon + 1);
  char lport_s[8];
  snprintf(lport_s, sizeof lport_s, "%.*s", (int)(eq - lcolon - 1), lcolon + 1);
  struct sockaddr_in addr = {.sin_family = AF_INET};
  if (!parse_uint(lport_s, 1, 65535, &lport) || inet_pton(AF_INET, listen_part, &addr.sin_addr) != 1)
    die_with_code(EXIT_USAGE, "--forward needs an IPv4 address and a port to listen on, not %.80s", spec);
  addr.sin_port = htons((uint16_t)lport);
  int on = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 64) < 0)
    die_with_error("listen on %s for %s", listen_part, spec);
  if (fork() != 0) {
    close(fd);
    return;
  }
  prctl(PR_SET_NAME, "dockside-fwd");
  for (;;) {
    int client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (fork() == 0) {
      close(fd);
      struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
      int target = -1;
      if (getaddrinfo(host, port_s, &hints, &res) == 0)
        for (struct addrinfo *a = res; a && target < 0; a = a->ai_next) {
          target = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
          if (target >= 0 && connect(target, a->ai_addr, a->ai_addrlen) < 0) close(target), target = -1;
        }
      if (target < 0) _exit(1);
      splice_both(client, target);
    }
    close(client);
  }
}

static void load_token(const char *file) {
  cleanup_free char *t = read_file(file);
  if (!t) die_with_error("read the agent secret %s", file);
  t[strcspn(t, "\r\n")] = 0;
  if (strlen(t) < 32 || strlen(t) >= sizeof agent_token) die("the agent secret in %s must be 32 to 255 characters", file);
  snprintf(agent_token, sizeof agent_token, "%s", t);
}

/* serve ADDRESS PORT TOKEN_FILE [--forward A:P=H:P]...: one process per connection; the listener never
 * reads a request itself. */
__attribute__((noreturn)) static void serve(const char *address, const char *port_s, const char *token_file,
                                            char **forwards) {
  load_token(token_file);
  uint64_t port;
  struct sockaddr_in addr = {.sin_family = AF_INET};
  if (!parse_uint(port_s, 1, 65535, &port) || inet_pton(AF_INET, address, &addr.sin_addr) != 1)
    die_with_code(EXIT_USAGE, "serve needs an IPv4 address and a port");
  addr.sin_port = htons((uint16_t)port);
  if (gethostname(agent_self.id, sizeof agent_self.id - 1) < 0) snprintf(agent_self.id, sizeof agent_self.id, "sandbox");
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 64) < 0)
    die_with_error("listen on %s:%s", address, port_s);
  signal(SIGPIPE, SIG_IGN);
  /* Connection handlers and forwarders are reaped by the kernel; each waits for its own children. */
  struct sigaction sa = {.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT};
  sigaction(SIGCHLD, &sa, NULL);
  for (; forwards && forwards[0]; forwards += 2) {
    if (strcmp(forwards[0], "--forward") || !forwards[1]) die_with_code(EXIT_USAGE, "unknown option %.40s", forwards[0]);
    start_forward(forwards[1]);
  }
  for (;;) {
    int client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) continue;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    pid_t pid = fork();
    if (pid == 0) {
      close(fd);
      struct sigaction dfl = {.sa_handler = SIG_DFL};
      sigaction(SIGCHLD, &dfl, NULL);
      serve_connection(client);
    }
    close(client);
  }
}

/* A pod's pid 1: the engine's socket for dockside-init to hand to dockerd (-H fd://), the agent beside it
 * (once the engine answers, so the pod's readiness probe on the agent's port means a working engine). */
__attribute__((noreturn)) static void pod(void) {
  const char *token_file = getenv("DOCKSIDE_AGENT_TOKEN_FILE");
  if (!token_file) die("DOCKSIDE_AGENT_TOKEN_FILE is not set");
  mkdir_p("/run/dockside", 0700);
  unlink("/run/dockside/engine.sock");
  int engine = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "/run/dockside/engine.sock"};
  if (engine < 0 || bind(engine, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(engine, 64) < 0)
    die_with_error("make the engine's socket");
  if (engine != ENGINE_FD && dup2(engine, ENGINE_FD) < 0) die_with_error("dup2 the engine socket");
  pid_t agent = fork();
  if (agent < 0) die_with_error("fork");
  if (agent == 0) {
    close(ENGINE_FD);
    /* The cluster's registry and package proxy where the base image's settings expect them. */
    static char mirror[300], proxy[300];
    char *forwards[5] = {0};
    int n = 0;
    const char *m = getenv("DOCKSIDE_REGISTRY_MIRROR"), *x = getenv("DOCKSIDE_EGRESS_PROXY");
    if (m && !strncmp(m, "http://", 7)) {
      snprintf(mirror, sizeof mirror, "127.0.0.1:5000=%s", m + 7);
      mirror[strcspn(mirror, "/")] = 0;
      forwards[n++] = "--forward", forwards[n++] = mirror;
    }
    if (x && !strncmp(x, "http://", 7)) {
      snprintf(proxy, sizeof proxy, "0.0.0.0:3128=%s", x + 7);
      proxy[strcspn(proxy, "/")] = 0;
      forwards[n++] = "--forward", forwards[n++] = proxy;
    }
    for (int i = 0; i < 600 && connect_unix(AGENT_DOCKER) < 0; i++) usleep(100 * 1000);
    serve("0.0.0.0", "7070", token_file, forwards);
  }
  char *const argv[] = {"dockside-init", NULL};
  execv("/usr/local/sbin/dockside-init", argv);
  die_with_error("exec /usr/local/sbin/dockside-init");
}

int main(int argc, char **argv) {
  current_command = "agent";
  if (argc >= 5 && !strcmp(argv[1], "serve")) serve(argv[2], argv[3], argv[4], argv + 5);
  if (argc == 2 && !strcmp(argv[1], "pod")) pod();
  die_with_code(EXIT_USAGE, "usage: dockside-agent serve ADDRESS PORT TOKEN_FILE [--forward ADDRESS:PORT=HOST:PORT]... | "
                            "dockside-agent pod");
}
