/* Entering a running sandbox from the host, for exec, connect and file. This process stays outside with
 * the caller's real ids, so the caller can always signal it; the work happens in a child that joins the
 * sandbox's namespaces, becomes the sandbox's root (an unprivileged id outside) and is told when we die
 * (PR_SET_PDEATHSIG), so killing us ends what we started. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>

state_t running_sandbox(const char *id) {
  state_t st = loaded_sandbox(checked_id(id));
  if (!state_running(&st)) die_with_code(EXIT_NOT_RUNNING, "sandbox %s is not running (start a new one)", id);
  return st;
}

static int open_ns(pid_t pid, const char *ns) {
  cleanup_free char *path = xasprintf("/proc/%d/ns/%s", (int)pid, ns);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die_with_error("open %s", path);
  return fd;
}

static pid_t inside_pid;
static void forward_signal(int sig) {
  if (inside_pid > 0) kill(inside_pid, sig);
}

static void become_sandbox_root(const char *id) {
  if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
    die_with_error("become root of sandbox %s", id);
}

void join_sandbox(const state_t *st, int nstypes, bool join_cgroup) {
  /* Joined in this order: the user namespace first gives the rights to join the others. */
  static const struct {
    int type;
    const char *name;
  } kinds[] = {{CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mnt"},   {CLONE_NEWPID, "pid"},      {CLONE_NEWNET, "net"},
               {CLONE_NEWUTS, "uts"},   {CLONE_NEWIPC, "ipc"}, {CLONE_NEWCGROUP, "cgroup"}};
  if (join_cgroup) cgroups_enter(st->id, getpid(), false);
  int fds[7];
  for (int n = 0; n < 7; n++) fds[n] = (kinds[n].type & (nstypes | CLONE_NEWUSER)) ? open_ns(st->pid, kinds[n].name) : -1;
  for (int n = 0; n < 7; n++) {
    if (fds[n] < 0) continue;
    if (setns(fds[n], kinds[n].type) < 0) die_with_error("join the %s namespace of %s", kinds[n].name, st->id);
    close(fds[n]);
  }
  become_sandbox_root(st->id);
}

int run_inside(const state_t *st, int nstypes, bool join_cgroup, int (*work)(const state_t *, void *), void *arg,
               int death_signal) {
  pid_t outside = getpid();
  inside_pid = fork();
  if (inside_pid < 0) die_with_error("fork");
  if (inside_pid == 0) {
    join_sandbox(st, nstypes, join_cgroup);
    /* Set after the change of ids, which clears it; a parent gone before that is caught below. */
    if (prctl(PR_SET_PDEATHSIG, death_signal) < 0) die_with_error("prctl PR_SET_PDEATHSIG");
    if (getppid() != outside) _exit(128 + SIGKILL);
    exit(work(st, arg)); /* exit, not _exit: what work printed must be flushed */
  }
  struct sigaction sa = {.sa_handler = forward_signal};
  static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
  for (size_t n = 0; n < sizeof sigs / sizeof *sigs; n++) sigaction(sigs[n], &sa, NULL);
  int status;
  while (waitpid(inside_pid, &status, 0) < 0)
    if (errno != EINTR) die_with_error("wait");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

