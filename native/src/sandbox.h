/* What the dockside-sandbox commands share: the sandbox's paths and its recorded state. */
#pragma once
#include "utils.h"

#define RANGE_SIZE 65536u
#define MAX_RANGE 16383u
#define MAX_ID_LEN 40
#define MAX_TERMINAL_NAME_LEN 32
#define MAX_TERMINAL_SIZE 1000 /* columns or rows */
#define MAX_PATH_LEN 4096
#define MIN_CPUS 0.01
#define MAX_CPUS 1024.0
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

bool state_load(const char *id, state_t *st);
/* state_load, or exit with EXIT_NOT_FOUND. */
state_t loaded_sandbox(const char *id);
void state_save(const state_t *st);
/* Whether the recorded init process is still that sandbox's init. */
bool state_running(const state_t *st);
long long proc_start_time(pid_t pid);
void state_print_json(const state_t *st, bool running);
int cmd_inspect(int argc, char **argv);
int cmd_list(int argc, char **argv);

/* create.c */
int create_sandbox(const char *id, unsigned range, const limits_t *limits);

/* teardown.c: `stop` (the engine shut down cleanly, files kept) and `destroy` (nothing left) */
/* Kills every process of the sandbox at once and removes its cgroups and its directory (with the disk). */
void sandbox_teardown(const char *id);
int cmd_stop(int argc, char **argv);
int cmd_destroy(int argc, char **argv);

/* cgroups.c */
/* Exits with one line when this host's cgroups cannot hold a sandbox's limits. */
void cgroups_check_host(void);
void cgroups_create(const char *id, const limits_t *limits, uid_t owner);
/* Moves a process in: the first one of a sandbox to its cgroup namespace's root, later ones (exec) to
 * where its processes live. */
void cgroups_enter(const char *id, pid_t pid, bool namespace_root);
/* Moves a terminal's holder in: the sandbox's own cgroups, but for cpu its terminals' group outside dockside/. */
void cgroups_enter_terminal(const state_t *st, pid_t pid);
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
/* The sandbox, or exit: EXIT_USAGE for a bad id, EXIT_NOT_FOUND, EXIT_NOT_RUNNING. */
state_t running_sandbox(const char *id);
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
void command_environ(const state_t *st, const env_list_t *env);

/* parse.c: argument checks that only answer (unit-tested in native/test/parse_test.c)... */
bool valid_id(const char *id);                  /* [a-z0-9][a-z0-9-]{0,39} */
bool valid_terminal_name(const char *name);     /* [a-z0-9][a-z0-9-]{0,31} */
/* A decimal number (digits only) within [min, max]. */
bool parse_uint(const char *v, uint64_t min, uint64_t max, uint64_t *out);
/* Bytes, or a number with K, M or G (powers of 1024), within [min, max]. */
bool parse_size(const char *v, uint64_t min, uint64_t max, uint64_t *out);
/* Digits and a point, from MIN_CPUS to MAX_CPUS. */
bool parse_cpus(const char *v, double *out);
typedef enum { ENV_OK, ENV_NOT_NAME_VALUE, ENV_BAD_NAME, ENV_TOO_MANY } env_error_t;
/* Takes one NAME=VALUE, NAME of [A-Za-z_][A-Za-z0-9_]* (copied; the value is then blanked in argv). */
env_error_t env_add(env_list_t *env, char *kv);
/* An absolute, normalised path (no ".", "..", "//", trailing "/"), at most MAX_PATH_LEN bytes. */
bool clean_path(const char *p);
/* A sha256 in lowercase hex, 64 digits (a layer's chain id). */
bool valid_hex_digest(const char *s);
/* ...and the forms the commands use, which exit with EXIT_USAGE and a line naming the option. */
const char *checked_id(const char *id);
uint64_t uint_option(const char *flag, const char *v, uint64_t min, uint64_t max);
uint64_t size_option(const char *flag, const char *v, uint64_t min, uint64_t max);
double cpus_option(const char *v);
void parse_env_option(char *kv, env_list_t *env);

/* exec.c, files.c, session.c */
int cmd_exec(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_file(int argc, char **argv);
int cmd_session(int argc, char **argv);
/* layerdb.c */
int cmd_layerdb(int argc, char **argv);
