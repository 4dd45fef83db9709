/* What the dockside-sandbox commands share: the sandbox's paths and its recorded state. */
#pragma once
#include "utils.h"

#define RANGE_SIZE 65536u
#define MAX_RANGE 16383u
#define CGROUP_PARENT "dockside"

typedef struct {
  uint64_t memory_bytes;
  uint64_t pids;
  double cpus;
  uint64_t disk_bytes;
} limits_t;

typedef struct {
  char id[48];
  unsigned range;
  pid_t pid;          /* pid 1 of the sandbox, as the host sees it; 0 when stopped */
  long long started;  /* the init process's start time (from /proc), to detect pid reuse */
  long long created;  /* unix seconds */
  limits_t limits;
} state_t;

/* The data dir: $DOCKSIDE_DATA_DIR when run by real root, else the compiled-in default. */
const char *data_dir(void);
/* The caller's real group, read before anything changes it: it may reach the engine sockets (the
 * server's group `dockside` when installed setuid, root's when run by root). */
gid_t caller_gid(void);
char *sandbox_dir(const char *id);
bool valid_id(const char *id);

bool state_load(const char *id, state_t *st);
void state_save(const state_t *st);
/* Whether the recorded init process is still that sandbox's init. */
bool state_running(const state_t *st);
long long proc_start_time(pid_t pid);
void state_print_json(const state_t *st, bool running);

/* cgroups.c */
/* Exits with one line when this host's cgroups cannot hold a sandbox's limits. */
void cgroups_check_host(void);
void cgroups_create(const char *id, const limits_t *limits, uid_t owner);
/* Moves a process in: the first one of a sandbox to its cgroup namespace's root, later ones (exec) to
 * where its processes live. */
void cgroups_enter(const char *id, pid_t pid, bool namespace_root);
/* Called by the sandbox's first process in its new cgroup namespace, as the sandbox's root. */
void cgroups_settle_inside(const char *id);
void cgroups_kill_and_remove(const char *id);
bool cgroups_v1(void);
uint64_t cgroups_memory_usage(const char *id);

/* disk.c */
/* Exits with EXIT_NO_SPACE unless the host can hold one more disk of `size` beside those it promised. */
void disk_check_space(const char *new_id, uint64_t size);
/* Creates the sandbox's disk image and attaches it; returns the loop device's fd (keep it open until
 * it is mounted) and its path in *loop_dev. */
int disk_attach(const char *dir, uid_t base_uid, uint64_t bytes, char **loop_dev);

/* ids.c: whether an id range is free on this host (no sandbox, subuid/subgid entry, user or process). */
void ids_check_range(unsigned range);

/* mounts.c: the parent side (host root), in a private mount namespace */
void mounts_prepare_root(const char *dir, const char *base_rootfs, const char *init_bin, pid_t userns_pid, uid_t base_uid,
                         uint64_t disk_bytes);
/* the child side, inside the sandbox's user and mount namespaces */
void mounts_finish_inside(const char *id, bool v1);

/* enter.c */
state_t running_sandbox(const char *id);
void become_sandbox_root(const char *id);
/* Joins the sandbox's user namespace, those in `nstypes` (CLONE_NEW* flags) and maybe its cgroup, and
 * becomes its root. A joined pid namespace is that of our children. */
void join_sandbox(const state_t *st, int nstypes, bool join_cgroup);
/* Runs work() in a child that joins the sandbox's user namespace and those in `nstypes` (CLONE_NEW*
 * flags), and becomes its root; `death_signal` reaches it if we die. Returns its exit code. */
int run_inside(const state_t *st, int nstypes, bool join_cgroup, int (*work)(const state_t *, void *), void *arg,
               int death_signal);

/* What a command started inside gets for an environment: a few defaults and the caller's --env. */
#define MAX_ENV 60
typedef struct {
  char *vars[MAX_ENV];
  int n;
} env_list_t;
/* Takes one --env NAME=VALUE (copied; the value is blanked in argv). */
void parse_env_option(char *kv, env_list_t *env);
void command_environ(const state_t *st, const env_list_t *env);

/* exec.c, files.c, session.c */
int cmd_exec(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_file(int argc, char **argv);
int cmd_session(int argc, char **argv);
