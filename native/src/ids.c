/* Id ranges: a sandbox's 65536 ids must belong to nobody else on this host, or its root would own
 * someone's files or could signal someone's processes. */
#include "sandbox.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static bool overlaps(uint64_t start, uint64_t count, uint64_t lo, uint64_t hi) {
  return count > 0 && start < hi && start + count > lo;
}

/* /etc/subuid and /etc/subgid: "name:start:count" per line. */
static void check_subids(const char *file, uint64_t lo, uint64_t hi, unsigned range) {
  cleanup_free char *text = read_file(file);
  if (!text) return;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char name[256];
    unsigned long long start, count;
    if (sscanf(line, "%255[^:]:%llu:%llu", name, &start, &count) != 3) continue;
    if (overlaps(start, count, lo, hi))
      die_with_code(EXIT_EXISTS, "id range %u (host ids %llu-%llu) overlaps %s's ids in %s", range,
                    (unsigned long long)lo, (unsigned long long)hi - 1, name, file);
  }
}

/* /etc/passwd and /etc/group: the id is the third field. */
static void check_accounts(const char *file, uint64_t lo, uint64_t hi, unsigned range) {
  cleanup_free char *text = read_file(file);
  if (!text) return;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char name[256];
    unsigned long long id;
    if (sscanf(line, "%255[^:]:%*[^:]:%llu:", name, &id) != 2) continue;
    if (id >= lo && id < hi)
      die_with_code(EXIT_EXISTS, "id range %u (host ids %llu-%llu) holds %s (id %llu) of %s", range,
                    (unsigned long long)lo, (unsigned long long)hi - 1, name, id, file);
  }
}

static void check_processes(uint64_t lo, uint64_t hi, unsigned range) {
  DIR *d = opendir("/proc");
  if (!d) die_with_error("open /proc");
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    cleanup_free char *path = xasprintf("/proc/%s/status", e->d_name);
    cleanup_free char *status = read_file(path);
    if (!status) continue; /* gone */
    for (const char *field = "\nUid:"; field; field = strcmp(field, "\nUid:") ? NULL : "\nGid:") {
      const char *p = strstr(status, field);
      if (!p) continue;
      p += strlen(field);
      for (int n = 0; n < 4; n++) {
        char *end;
        unsigned long long id = strtoull(p, &end, 10);
        if (end == p) break;
        if (id >= lo && id < hi) {
          closedir(d);
          die_with_code(EXIT_EXISTS, "id range %u (host ids %llu-%llu) is used by process %s (id %llu)", range,
                        (unsigned long long)lo, (unsigned long long)hi - 1, e->d_name, id);
        }
        p = end;
      }
    }
  }
  closedir(d);
}

void ids_check_range(unsigned range) {
  uint64_t lo = (uint64_t)range * RANGE_SIZE, hi = lo + RANGE_SIZE;
  cleanup_free char *root = xasprintf("%s/sandboxes", data_dir());
  DIR *d = opendir(root);
  for (struct dirent *e; d && (e = readdir(d));) {
    state_t other;
    if (e->d_name[0] != '.' && valid_id(e->d_name) && state_load(e->d_name, &other) && other.range == range) {
      closedir(d);
      die_with_code(EXIT_EXISTS, "id range %u is already used by another sandbox", range);
    }
  }
  if (d) closedir(d);
  check_subids("/etc/subuid", lo, hi, range);
  check_subids("/etc/subgid", lo, hi, range);
  check_accounts("/etc/passwd", lo, hi, range);
  check_accounts("/etc/group", lo, hi, range);
  check_processes(lo, hi, range);
}
