/* `exec` runs a command as root inside a sandbox (all its namespaces and its cgroup); `connect` relays
 * stdin/stdout to a TCP port on the sandbox's own 127.0.0.1. */
#include "sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static state_t running_sandbox(const char *id) {
  if (!id || !valid_id(id)) die_with_code(EXIT_USAGE, "invalid sandbox id \"%.60s\"", id ? id : "");
  state_t st;
  if (!state_load(id, &st)) die_with_code(EXIT_NOT_FOUND, "no sandbox %s", id);
  if (!state_running(&st)) die_with_code(EXIT_NOT_RUNNING, "sandbox %s is not running (start a new one)", id);
  return st;
}

static int open_ns(pid_t pid, const char *ns) {
  cleanup_free char *path = xasprintf("/proc/%d/ns/%s", (int)pid, ns);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die_with_error("open %s", path);
  return fd;
}

static pid_t child_pid;
static void forward_signal(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

int cmd_exec(int argc, char **argv) {
  bool tty = false;
  const char *cwd = NULL;
  const char *envs[64];
  int nenv = 0;
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--"); i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-t")) tty = true;
    else if (!strcmp(a, "--cwd") && i + 1 < argc) cwd = argv[++i];
    else if (!strcmp(a, "--env") && i + 1 < argc) {
      const char *kv = argv[++i];
      const char *eq = strchr(kv, '=');
      if (!eq || eq == kv || nenv >= 60) die_with_code(EXIT_USAGE, "--env needs NAME=VALUE");
      for (const char *c = kv; c < eq; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
          die_with_code(EXIT_USAGE, "--env: invalid name in %.40s", kv);
      envs[nenv++] = kv;
    } else if (a[0] == '-') die_with_code(EXIT_USAGE, "unknown option %.40s", a);
    else break;
  }
  if (i >= argc) die_with_code(EXIT_USAGE, "exec needs ID -- CMD...");
  const char *id = argv[i++];
  if (i >= argc || strcmp(argv[i], "--") || i + 1 >= argc) die_with_code(EXIT_USAGE, "exec needs ID -- CMD...");
  char **cmd = argv + i + 1;
  state_t st = running_sandbox(id);

  /* Count toward the sandbox's limits, then enter its namespaces: the user namespace first, which
   * gives the rights to join the others. */
  cgroups_enter(id, getpid());
  static const char *const order[] = {"user", "mnt", "pid", "net", "uts", "ipc", "cgroup"};
  int fds[7];
  for (int n = 0; n < 7; n++) fds[n] = open_ns(st.pid, order[n]);
  for (int n = 0; n < 7; n++) {
    if (setns(fds[n], 0) < 0) die_with_error("join the %s namespace of %s", order[n], id);
    close(fds[n]);
  }
  if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0) die_with_error("become root in %s", id);

  child_pid = fork();
  if (child_pid < 0) die_with_error("fork");
  if (child_pid == 0) {
    /* With -t the terminal (from node-pty) is already our session's controlling terminal and our
     * process group its foreground: the child stays in both, and an interactive shell takes it over
     * for job control as it would on a login. */
    (void)tty;
    const char *dir = cwd ? cwd : "/root";
    if (chdir(dir) < 0) die_with_error("cd %s", dir);
    clearenv();
    setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    setenv("HOME", "/root", 1);
    setenv("USER", "root", 1);
    setenv("LANG", "C.UTF-8", 1);
    setenv("HOSTNAME", id, 1);
    for (int n = 0; n < nenv; n++) putenv((char *)envs[n]);
    execvp(cmd[0], cmd);
    die_with_code(127, "%s: %s", cmd[0], strerror(errno));
  }
  struct sigaction sa = {.sa_handler = forward_signal};
  int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t n = 0; n < sizeof sigs / sizeof *sigs; n++) sigaction(sigs[n], &sa, NULL);
  int status;
  while (waitpid(child_pid, &status, 0) < 0)
    if (errno != EINTR) die_with_error("wait");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int cmd_connect(int argc, char **argv) {
  if (argc != 3) die_with_code(EXIT_USAGE, "connect takes ID PORT");
  char *end;
  long port = strtol(argv[2], &end, 10);
  if (*end || port < 1 || port > 65535) die_with_code(EXIT_USAGE, "invalid port %.20s", argv[2]);
  state_t st = running_sandbox(argv[1]);
  cleanup_fd int netns = open_ns(st.pid, "net");
  if (setns(netns, CLONE_NEWNET) < 0) die_with_error("join the network of %s", st.id);
  cleanup_fd int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_with_error("socket");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0)
    die_with_code(EXIT_NOT_RUNNING, "nothing listens on port %ld in sandbox %s", port, st.id);
  signal(SIGPIPE, SIG_IGN);
  struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = s, .events = POLLIN}};
  char buf[65536];
  bool in_open = true;
  for (;;) {
    p[0].fd = in_open ? 0 : -1;
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die_with_error("poll");
    }
    if (in_open && p[0].revents) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0) {
        in_open = false;
        shutdown(s, SHUT_WR);
      } else if (write_all(s, buf, (size_t)n) < 0) return 0;
    }
    if (p[1].revents) {
      ssize_t n = read(s, buf, sizeof buf);
      if (n <= 0) return 0;
      if (write_all(1, buf, (size_t)n) < 0) return 0;
    }
  }
}
