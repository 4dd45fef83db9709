/* `exec` runs a command as root inside a sandbox (all its namespaces and its cgroup); `connect` relays
 * stdin/stdout to a TCP port on the sandbox's own 127.0.0.1. Both work through run_inside (enter.c):
 * the process the caller started stays signalable, and takes what it started with it. */
#include "sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>

typedef struct {
  bool tty;
  const char *cwd;
  env_list_t env;
  char **cmd;
} exec_args_t;

/* In the sandbox: the command runs in a process group of its own, which goes down with it. */
static pid_t command_pid;
static void to_command(int sig) {
  if (command_pid > 0) kill(-command_pid, sig);
}
static void caller_died(int sig) {
  (void)sig;
  if (command_pid > 0) {
    kill(-command_pid, SIGKILL);
    kill(command_pid, SIGKILL);
  }
  _exit(128 + SIGKILL);
}

static int exec_inside(const state_t *st, void *arg) {
  const exec_args_t *a = arg;
  struct sigaction died = {.sa_handler = caller_died};
  sigaction(SIGRTMIN + 1, &died, NULL);
  command_pid = fork();
  if (command_pid < 0) die_with_error("fork");
  if (command_pid == 0) {
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (setpgid(0, 0) < 0) die_with_error("setpgid");
    if (a->tty) {
      /* The terminal (from node-pty) is our session's: its foreground becomes the command's group. */
      signal(SIGTTOU, SIG_IGN);
      if (tcsetpgrp(0, getpid()) < 0) die_with_error("take the terminal");
      signal(SIGTTOU, SIG_DFL);
    }
    const char *dir = a->cwd ? a->cwd : "/root";
    if (chdir(dir) < 0) die_with_error("cd %s", dir);
    command_environ(st, &a->env);
    execvp(a->cmd[0], a->cmd);
    die_with_code(127, "%s: %s", a->cmd[0], strerror(errno));
  }
  setpgid(command_pid, command_pid); /* also here, so a signal right after fork finds the group */
  struct sigaction sa = {.sa_handler = to_command};
  static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
  for (size_t n = 0; n < sizeof sigs / sizeof *sigs; n++) sigaction(sigs[n], &sa, NULL);
  int status;
  while (waitpid(command_pid, &status, 0) < 0)
    if (errno != EINTR) die_with_error("wait");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int cmd_exec(int argc, char **argv) {
  exec_args_t a = {0};
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--"); i++) {
    const char *opt = argv[i];
    char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(opt, "-t")) a.tty = true;
    else if (!strcmp(opt, "--cwd") && v) a.cwd = v, i++;
    else if (!strcmp(opt, "--env") && v) parse_env_option(v, &a.env), i++;
    else if (!strcmp(opt, "--cwd") || !strcmp(opt, "--env")) die_with_code(EXIT_USAGE, "%s needs a value", opt);
    else if (opt[0] == '-') die_with_code(EXIT_USAGE, "unknown option %.40s", opt);
    else break;
  }
  if (i >= argc) die_with_code(EXIT_USAGE, "exec needs ID -- CMD...");
  const char *id = argv[i++];
  if (i >= argc || strcmp(argv[i], "--") || i + 1 >= argc) die_with_code(EXIT_USAGE, "exec needs ID -- CMD...");
  a.cmd = argv + i + 1;
  if (a.tty && !isatty(0)) die_with_code(EXIT_USAGE, "exec -t needs a terminal on stdin");
  state_t st = running_sandbox(id);
  int all = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
  return run_inside(&st, all, true, exec_inside, &a, SIGRTMIN + 1);
}

static int connect_inside(const state_t *st, void *arg) {
  long port = *(long *)arg;
  cleanup_fd int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_with_error("socket");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0)
    die_with_code(EXIT_NOT_RUNNING, "nothing listens on port %ld in sandbox %s", port, st->id);
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

int cmd_connect(int argc, char **argv) {
  if (argc != 3) die_with_code(EXIT_USAGE, "connect takes ID PORT");
  uint64_t n;
  if (!parse_uint(argv[2], 1, 65535, &n)) die_with_code(EXIT_USAGE, "invalid port %.20s: use 1 to 65535", argv[2]);
  long port = (long)n;
  state_t st = running_sandbox(argv[1]);
  return run_inside(&st, CLONE_NEWNET, false, connect_inside, &port, SIGKILL);
}
