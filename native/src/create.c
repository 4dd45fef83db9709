/* `create`: a new sandbox, up to the moment its Docker Engine answers. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

static void sync_write(int fd, const void *buf, size_t len) {
  if (write_all(fd, buf, len) < 0) die_with_error("sync pipe");
}

static bool sync_read(int fd, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += (size_t)n;
  }
  return true;
}

static void write_id_map(pid_t pid, const char *file, unsigned base) {
  cleanup_free char *path = xasprintf("/proc/%d/%s", (int)pid, file);
  cleanup_free char *map = xasprintf("0 %u %u\n", base, RANGE_SIZE);
  write_file_or_die(path, map);
}

static char *init_binary(void) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) die_with_error("readlink /proc/self/exe");
  self[n] = '\0';
  *strrchr(self, '/') = '\0';
  char *init = xasprintf("%s/dockside-init", self);
  if (!path_exists(init)) die("missing %s (build native/ with make)", init);
  return init;
}

/* The child: joins its new user namespace as root, then the other namespaces, and starts pid 1. */
static void child_main(int to_parent, int from_parent, const char *dir, const char *id, bool v1, int engine_fd) {
  if (unshare(CLONE_NEWUSER) < 0) die_with_error("unshare user namespace");
  char c = 'u';
  sync_write(to_parent, &c, 1);
  if (!sync_read(from_parent, &c, 1)) _exit(1); /* maps written, cgroup joined, root mounted */
  if (chdir(dir) < 0) die_with_error("chdir %s", dir);
  if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
    die_with_error("become root of the sandbox's user namespace");
  if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP) < 0)
    die_with_error("unshare namespaces");
  cgroups_settle_inside(id);
  pid_t init = fork();
  if (init < 0) die_with_error("fork pid 1");
  if (init == 0) {
    close(to_parent);
    mounts_finish_inside(id, v1);
    int null = open("/dev/null", O_RDWR);
    if (null < 0) die_with_error("open /dev/null");
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    /* The engine's listening socket is the one descriptor pid 1 inherits (dup2 clears close-on-exec). */
    if (engine_fd != ENGINE_FD && dup2(engine_fd, ENGINE_FD) < 0) die_with_error("dup2 the engine socket");
    if (engine_fd == ENGINE_FD && fcntl(ENGINE_FD, F_SETFD, 0) < 0) die_with_error("keep the engine socket");
    close_range(ENGINE_FD + 1, ~0u, 0);
    setsid();
    char *const argv[] = {"dockside-init", NULL};
    char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", NULL};
    execve("/run/dockside/init", argv, envp);
    _exit(127);
  }
  sync_write(to_parent, &init, sizeof init);
  _exit(0);
}

/* The set-up process: a private mount namespace for preparing the root, so the host's mount table never
 * sees the sandbox's mounts. Reports pid 1's host pid on `report`. */
static void setup_main(int report, const char *dir, const char *id, const state_t *st, const char *base, int engine_fd) {
  if (unshare(CLONE_NEWNS) < 0) die_with_error("unshare mount namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die_with_error("make / private");
  int up[2], down[2];
  if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) die_with_error("pipe");
  cleanup_free char *init_bin = init_binary();
  bool v1 = cgroups_v1();
  pid_t child = fork();
  if (child < 0) die_with_error("fork");
  if (child == 0) {
    close(up[0]);
    close(down[1]);
    child_main(up[1], down[0], dir, id, v1, engine_fd);
  }
  close(up[1]);
  close(down[0]);
  char c;
  if (!sync_read(up[0], &c, 1)) die("the sandbox's first process failed to start");
  unsigned base_uid = st->range * RANGE_SIZE;
  write_id_map(child, "uid_map", base_uid);
  write_id_map(child, "gid_map", base_uid);
  cgroups_enter(id, child, true);
  mounts_prepare_root(dir, base, init_bin, child, base_uid, st->limits.disk_bytes);
  sync_write(down[1], &c, 1);
  pid_t init = 0;
  if (!sync_read(up[0], &init, sizeof init)) die("the sandbox's pid 1 did not start");
  int status;
  if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) die("the sandbox's set-up failed");
  sync_write(report, &init, sizeof init);
  _exit(0);
}

/* GET /_ping on the engine's socket: true once it answers OK. */
static bool engine_answers(const char *sock_path) {
  cleanup_fd int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  /* A listener that never accepts (an engine that died, or hangs) must not hold us up. */
  struct timeval tv = {.tv_sec = 1};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) return false;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) return false;
  const char *req = "GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
  if (write_all(fd, req, strlen(req)) < 0) return false;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n <= 0) return false;
  buf[n] = '\0';
  return strstr(buf, " 200 ") != NULL;
}

/* The engine's API socket for the server: made here by host root in a directory only host root may
 * change, so the sandbox can neither rename nor replace it; dockerd inside gets the listening socket
 * itself (systemd-style socket activation, fd:// ) through pid 1. */
static int engine_socket(const char *dir) {
  cleanup_free char *run = xasprintf("%s/run", dir);
  if (mkdir(run, 0750) < 0) die_with_error("mkdir %s", run);
  if (chown(run, 0, caller_gid()) < 0) die_with_error("chown %s", run);
  cleanup_free char *path = xasprintf("%s/docker.sock", run);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) die("the socket path %s is too long", path);
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die_with_error("socket");
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die_with_error("bind %s", path);
  /* The caller's group (the server's) may connect; nobody else may even reach the directory. */
  if (chown(path, 0, caller_gid()) < 0 || chmod(path, 0660) < 0) die_with_error("chown %s", path);
  if (listen(fd, 128) < 0) die_with_error("listen %s", path);
  return fd;
}

/* The kernel features sandboxes stand on; the newest is overlayfs over an idmapped lower layer (5.19). */
static void check_kernel(void) {
  struct utsname u;
  if (uname(&u) < 0) die_with_error("uname");
  int major = 0, minor = 0;
  if (sscanf(u.release, "%d.%d", &major, &minor) != 2 || major < 5 || (major == 5 && minor < 19))
    die("this host runs Linux %s; sandboxes need 5.19 or later (overlayfs over idmapped mounts)", u.release);
}

int create_sandbox(const char *id, unsigned range, const limits_t *limits) {
  check_kernel();
  cgroups_check_host();
  cleanup_free char *base = xasprintf("%s/images/base/current/rootfs", data_dir());
  if (!path_exists(base)) die("the base image is missing: %s (run npm start to build it)", base);
  cleanup_free char *root = xasprintf("%s/sandboxes", data_dir());
  mkdir_p(root, 0711);
  cleanup_free char *dir = sandbox_dir(id);

  state_t st = {.range = range, .limits = *limits, .created = (long long)time(NULL)};
  snprintf(st.id, sizeof st.id, "%s", id);
  {
    /* One create at a time decides on ids and ranges. */
    cleanup_free char *lock_path = xasprintf("%s/.lock", root);
    cleanup_fd int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) < 0) die_with_error("lock %s", lock_path);
    if (path_exists(dir)) die_with_code(EXIT_EXISTS, "sandbox %s already exists", id);
    ids_check_range(range);
    disk_check_space(id, limits->disk_bytes);
    if (mkdir(dir, 0711) < 0) die_with_error("mkdir %s", dir);
    state_save(&st);
  }

  cgroups_create(id, limits, range * RANGE_SIZE);
  cleanup_fd int engine_fd = engine_socket(dir);
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) die_with_error("pipe");
  pid_t setup = fork();
  if (setup < 0) die_with_error("fork");
  if (setup == 0) {
    close(report[0]);
    setup_main(report[1], dir, id, &st, base, engine_fd);
  }
  close(report[1]);
  /* Only pid 1 keeps the listening socket: with ours closed, a dead engine refuses connections. */
  close(engine_fd);
  engine_fd = -1;
  pid_t init = 0;
  bool ok = sync_read(report[0], &init, sizeof init);
  int status;
  waitpid(setup, &status, 0);
  if (!ok || init <= 0) {
    sandbox_teardown(id);
    die("could not start sandbox %s (see the message above)", id);
  }
  st.pid = init;
  st.started = proc_start_time(init);
  state_save(&st);

  cleanup_free char *sock = xasprintf("%s/run/docker.sock", dir);
  for (int i = 0; i < 3000; i++) { /* 30 s */
    if (engine_answers(sock)) {
      state_print_json(&st, true);
      putchar('\n');
      return 0;
    }
    if (!state_running(&st)) break;
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  /* Show why before everything is removed: the end of the engine's log. */
  cleanup_free char *log_path = xasprintf("/proc/%d/root/var/log/dockerd.log", (int)init);
  cleanup_free char *log = state_running(&st) ? read_file(log_path) : NULL;
  if (log) {
    size_t n = strlen(log);
    fprintf(stderr, "--- last lines of dockerd.log in %s ---\n%s\n", id, n > 1500 ? log + n - 1500 : log);
  }
  sandbox_teardown(id);
  die("the Docker Engine of sandbox %s did not answer within 30 s", id);
}
