/* dockside-init: pid 1 of a sandbox. Brings up loopback, relays the sandbox's 127.0.0.1 ports to the
 * unix sockets in /run/dockside/forward (the registry; the egress proxy on every address), starts
 * containerd, then dockerd on the API socket the runtime made on the host (inherited as ENGINE_FD),
 * reaps zombies, restarts either if it dies, and on SIGTERM shuts them down cleanly (dockerd first: it
 * stops its containers through containerd). */
#include "utils.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#define FORWARD_DIR "/run/dockside/forward"
#define MAX_FORWARDS 16

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...) {
  FILE *f = fopen("/var/log/dockside-init.log", "a");
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

static void loopback_up(void) {
  cleanup_fd int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return log_line("loopback: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) log_line("loopback up: %s", strerror(errno));
}

/* One connection: bytes both ways until both sides are done. */
static void relay(int a, int b) {
  struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
  char buf[65536];
  int open_dirs = 2;
  while (open_dirs > 0) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !p[i].revents) continue;
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      int other = i == 0 ? b : a;
      if (n <= 0) {
        shutdown(other, SHUT_WR);
        p[i].fd = -1;
        open_dirs--;
      } else if (write_all(other, buf, (size_t)n) < 0) return;
    }
  }
}

/* Listens on port (127.0.0.1, or every address for a `<port>.bridge.sock`) and relays each connection
 * to the unix socket; runs forever. */
static void forwarder(int port, in_addr_t host, const char *sock_path) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_IGN); /* relays reap themselves */
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(host)};
  if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(l, 64) < 0) {
    log_line("forward %d: %s", port, strerror(errno));
    _exit(1);
  }
  for (;;) {
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    pid_t pid = fork();
    if (pid == 0) {
      close(l);
      close(ENGINE_FD);
      int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      struct sockaddr_un ua = {.sun_family = AF_UNIX};
      snprintf(ua.sun_path, sizeof ua.sun_path, "%s", sock_path);
      if (u < 0 || connect(u, (struct sockaddr *)&ua, sizeof ua) < 0) _exit(1);
      relay(c, u);
      _exit(0);
    }
    close(c);
  }
}

static pid_t start_forwarders(pid_t pids[MAX_FORWARDS]) {
  int n = 0;
  DIR *d = opendir(FORWARD_DIR);
  for (struct dirent *e; d && n < MAX_FORWARDS && (e = readdir(d));) {
    char *end;
    long port = strtol(e->d_name, &end, 10);
    /* `.bridge.sock` (the egress proxy): also where containers and build steps, which are not in this
     * network namespace, reach it, through their bridge's gateway. Nothing outside the sandbox can. */
    bool bridge = !strcmp(end, ".bridge.sock");
    if (end == e->d_name || (strcmp(end, ".sock") && !bridge) || port < 1 || port > 65535) continue;
    char *path = xasprintf(FORWARD_DIR "/%s", e->d_name);
    pid_t pid = fork();
    if (pid == 0) forwarder((int)port, bridge ? INADDR_ANY : INADDR_LOOPBACK, path);
    free(path);
    if (pid > 0) pids[n++] = pid;
  }
  if (d) closedir(d);
  return n;
}

#define CONTAINERD_SOCK "/run/containerd/containerd.sock"

/* In a new child: default signal mask, stdout and stderr to the log. */
static void daemon_child(const char *log_path) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log >= 0) {
    dup2(log, 1);
    dup2(log, 2);
  }
}

/* containerd is started here, not by dockerd: dockerd 26 dials the containerd it starts before that one
 * listens, and gRPC's backoff then costs it a whole second; ours answers before dockerd starts. */
static pid_t start_containerd(void) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  daemon_child("/var/log/containerd.log");
  char *const argv[] = {"containerd", "--config", "/etc/containerd/config.toml", NULL};
  char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", NULL};
  execve("/usr/bin/containerd", argv, envp);
  _exit(127);
}

/* Waits up to 10 s for containerd's socket to accept; dockerd is started either way (it retries). */
static void wait_for_containerd(void) {
  struct sockaddr_un ua = {.sun_family = AF_UNIX};
  snprintf(ua.sun_path, sizeof ua.sun_path, "%s", CONTAINERD_SOCK);
  for (int i = 0; i < 2000; i++) {
    cleanup_fd int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (u < 0) return log_line("containerd socket: %s", strerror(errno));
    if (connect(u, (struct sockaddr *)&ua, sizeof ua) == 0) return;
    nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
  }
  log_line("containerd did not answer on %s within 10 s", CONTAINERD_SOCK);
}

static pid_t start_engine(void) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  daemon_child("/var/log/dockerd.log");
  /* Socket activation as systemd does it: dockerd takes ENGINE_FD for -H fd://. */
  if (fcntl(ENGINE_FD, F_SETFD, 0) < 0) _exit(126);
  char listen_pid[32];
  snprintf(listen_pid, sizeof listen_pid, "LISTEN_PID=%d", (int)getpid());
  char *const argv[] = {"dockerd", "--host=fd://", "--host=unix:///var/run/docker.sock",
                        "--containerd=" CONTAINERD_SOCK, NULL};
  char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", listen_pid,
                        "LISTEN_FDS=1", NULL};
  execve("/usr/sbin/dockerd", argv, envp);
  _exit(127);
}

int main(void) {
  current_command = "init";
  if (getpid() != 1) die("must run as pid 1 of a sandbox");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) die_with_error("signalfd");
  struct stat engine_st;
  if (fstat(ENGINE_FD, &engine_st) < 0 || !S_ISSOCK(engine_st.st_mode)) die("no engine socket on descriptor %d", ENGINE_FD);
  if (fcntl(ENGINE_FD, F_SETFD, FD_CLOEXEC) < 0) die_with_error("fcntl");

  loopback_up();
  pid_t forwards[MAX_FORWARDS];
  int nforwards = start_forwarders(forwards);
  pid_t containerd = start_containerd();
  wait_for_containerd();
  pid_t engine = start_engine();
  time_t engine_started = time(NULL);
  bool stopping = false, containerd_stopping = false;
  time_t deadline = 0;

  for (;;) {
    struct pollfd p = {.fd = sfd, .events = POLLIN};
    int r = poll(&p, 1, stopping ? 500 : -1);
    if (r > 0) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD && !stopping) {
        stopping = true;
        deadline = time(NULL) + 15;
        for (int i = 0; i < nforwards; i++) kill(forwards[i], SIGKILL);
        if (engine > 0) kill(engine, SIGTERM);
      }
    }
    for (;;) {
      int status;
      pid_t dead = waitpid(-1, &status, WNOHANG);
      if (dead <= 0) break;
      if (dead == engine) {
        engine = 0;
        if (!stopping) {
          log_line("dockerd exited (status %d); restarting", status);
          if (time(NULL) - engine_started < 2) sleep(2);
          engine = start_engine();
          engine_started = time(NULL);
        }
      } else if (dead == containerd) {
        containerd = 0;
        if (!stopping) {
          log_line("containerd exited (status %d); restarting", status);
          containerd = start_containerd();
        }
      }
    }
    /* containerd goes once dockerd is gone: dockerd stops its containers through it. */
    if (stopping && engine == 0 && containerd > 0 && !containerd_stopping) {
      containerd_stopping = true;
      kill(containerd, SIGTERM);
    }
    if (stopping && ((engine == 0 && containerd == 0) || time(NULL) >= deadline)) {
      kill(-1, SIGKILL);
      return 0;
    }
  }
}
