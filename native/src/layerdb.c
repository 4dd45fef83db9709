/* `layerdb`: one file of the engine's layer store, for the Layers view to index a layer without the
 * image export. Docker's overlay2 layer store keeps, per layer (by chain id), its diff id and the tar
 * headers of its original archive (`tar-split.json.gz`): exactly what `docker save` reassembles the
 * layer's tar from. The learner is root in the sandbox and owns every byte and link there, so the file
 * is opened as the sandbox's root (run_inside), below the sandbox's / (/proc/PID/root), with openat2
 * refusing every symlink and magic link on the way, and read up to a fixed size. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* Exit code beside the runtime's own: the engine keeps no such layer here (another graph driver, the
 * containerd image store, a layer gone). */
enum { L_NOT_FOUND = 10 };

#define LAYERDB "var/lib/docker/image/overlay2/layerdb/sha256"
#define MAX_SMALL_BYTES 256              /* diff, cache-id: a digest or an id */
#define MAX_TAR_SPLIT_BYTES (512u << 20) /* the headers of ~1M entries, compressed */

typedef struct {
  int root;
  const char *chain_id;
  const char *name;
  size_t max;
} layerdb_args_t;

static int layerdb_inside(const state_t *st, void *arg) {
  (void)st;
  layerdb_args_t *a = arg;
  cleanup_free char *rel = xasprintf(LAYERDB "/%s/%s", a->chain_id, a->name);
  struct open_how how = {.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int fd;
  do fd = (int)syscall(SYS_openat2, a->root, rel, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
    die_with_code(L_NOT_FOUND, "no layer %.64s in the engine's overlay2 layer store (%s)", a->chain_id, strerror(errno));
  if (fd < 0) die_with_error("open /%s", rel);
  cleanup_fd int file = fd;
  struct stat s;
  if (fstat(file, &s) < 0) die_with_error("stat /%s", rel);
  if (!S_ISREG(s.st_mode)) die_with_code(L_NOT_FOUND, "/%s is not a regular file", rel);
  char buf[65536];
  size_t total = 0;
  for (;;) {
    ssize_t r = read(file, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die_with_error("read /%s", rel);
    if (r == 0) break;
    total += (size_t)r;
    if (total > a->max) die("/%s is larger than %zu bytes", rel, a->max);
    if (write_all(1, buf, (size_t)r) < 0) die_with_error("write");
  }
  return 0;
}

int cmd_layerdb(int argc, char **argv) {
  static const char usage[] = "layerdb ID CHAIN_ID diff|cache-id|tar-split (CHAIN_ID: 64 hex digits)";
  if (argc != 4) die_with_code(EXIT_USAGE, "%s", usage);
  layerdb_args_t a = {.chain_id = argv[2]};
  if (!valid_hex_digest(a.chain_id)) die_with_code(EXIT_USAGE, "the chain id must be 64 lowercase hex digits");
  if (!strcmp(argv[3], "diff")) a.name = "diff", a.max = MAX_SMALL_BYTES;
  else if (!strcmp(argv[3], "cache-id")) a.name = "cache-id", a.max = MAX_SMALL_BYTES;
  else if (!strcmp(argv[3], "tar-split")) a.name = "tar-split.json.gz", a.max = MAX_TAR_SPLIT_BYTES;
  else die_with_code(EXIT_USAGE, "unknown layerdb file %.20s; %s", argv[3], usage);

  state_t st = running_sandbox(argv[1]);
  cleanup_free char *root_path = xasprintf("/proc/%d/root", (int)st.pid);
  cleanup_fd int root = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die_with_error("open %s", root_path);
  a.root = root;
  /* The pid could have been reused between loading the state and opening its root. */
  if (!state_running(&st)) die_with_code(EXIT_NOT_RUNNING, "sandbox %s is not running", argv[1]);
  return run_inside(&st, 0, false, layerdb_inside, &a, SIGKILL);
}
