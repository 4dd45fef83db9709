/* Argument checks of dockside-sandbox. The checks themselves only answer (native/test/parse_test.c tests
 * them without root); the *_option forms the commands call exit with EXIT_USAGE and one line instead. */
#include "sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool digit(char c) { return c >= '0' && c <= '9'; }

/* [a-z0-9][a-z0-9-]{0,max-1}: nothing a path or a shell could read differently. */
static bool valid_name_of(const char *s, size_t max) {
  if (!s) return false;
  size_t n = strnlen(s, max + 1);
  if (n == 0 || n > max || !lower_or_digit(s[0])) return false;
  for (size_t i = 1; i < n; i++)
    if (!lower_or_digit(s[i]) && s[i] != '-') return false;
  return true;
}

bool valid_id(const char *id) { return valid_name_of(id, MAX_ID_LEN); }

bool valid_terminal_name(const char *name) { return valid_name_of(name, MAX_TERMINAL_NAME_LEN); }

bool parse_uint(const char *v, uint64_t min, uint64_t max, uint64_t *out) {
  /* strtoull alone would take " 5", "+5" and "-5" (as 2^64-5). */
  if (!v || !digit(v[0])) return false;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno || *end || n < min || n > max) return false;
  *out = n;
  return true;
}

bool parse_size(const char *v, uint64_t min, uint64_t max, uint64_t *out) {
  if (!v || !digit(v[0])) return false;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno) return false;
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10, end++;
  else if (*end == 'M' || *end == 'm') shift = 20, end++;
  else if (*end == 'G' || *end == 'g') shift = 30, end++;
  if (*end || n > (UINT64_MAX >> shift)) return false;
  uint64_t bytes = (uint64_t)n << shift;
  if (bytes < min || bytes > max) return false;
  *out = bytes;
  return true;
}

bool parse_cpus(const char *v, double *out) {
  /* Digits and one point: no sign, exponent, hex, inf or nan. */
  if (!v || !*v || strspn(v, "0123456789.") != strlen(v)) return false;
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (errno || end == v || *end || !(x >= MIN_CPUS && x <= MAX_CPUS)) return false;
  *out = x;
  return true;
}

env_error_t env_add(env_list_t *env, char *kv) {
  const char *eq = kv ? strchr(kv, '=') : NULL;
  if (!eq || eq == kv) return ENV_NOT_NAME_VALUE;
  if (!((kv[0] >= 'A' && kv[0] <= 'Z') || (kv[0] >= 'a' && kv[0] <= 'z') || kv[0] == '_')) return ENV_BAD_NAME;
  for (const char *c = kv; c < eq; c++)
    if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || digit(*c) || *c == '_')) return ENV_BAD_NAME;
  if (env->n >= MAX_ENV) return ENV_TOO_MANY;
  /* A copy, and the value blanked where it was: a child that enters the sandbox shares these arguments,
   * and a sandbox can read its /proc/PID/cmdline (a terminal's nonce travels here). */
  char *copy = strdup(kv);
  if (!copy) die("out of memory");
  memset((char *)eq + 1, '*', strlen(eq + 1));
  env->vars[env->n++] = copy;
  return ENV_OK;
}

bool clean_path(const char *p) {
  size_t n = strnlen(p, MAX_PATH_LEN + 1);
  if (p[0] != '/' || n > MAX_PATH_LEN || (n > 1 && p[n - 1] == '/') || strstr(p, "//")) return false;
  for (const char *c = p; (c = strstr(c, "/.")); c++)
    if (c[2] == '/' || c[2] == '\0' || (c[2] == '.' && (c[3] == '/' || c[3] == '\0'))) return false;
  return true;
}

bool valid_hex_digest(const char *s) { return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64; }

const char *checked_id(const char *id) {
  if (!id) die_with_code(EXIT_USAGE, "missing sandbox id");
  if (!valid_id(id)) die_with_code(EXIT_USAGE, "invalid sandbox id \"%.60s\": use [a-z0-9][a-z0-9-]{0,39}", id);
  return id;
}

uint64_t uint_option(const char *flag, const char *v, uint64_t min, uint64_t max) {
  uint64_t n;
  if (!parse_uint(v, min, max, &n))
    die_with_code(EXIT_USAGE, "%s needs a whole number from %llu to %llu", flag, (unsigned long long)min,
                  (unsigned long long)max);
  return n;
}

/* 268435456 as "256M": the largest unit that divides it. */
static void format_size(char *buf, size_t len, uint64_t n) {
  static const char units[] = "GMK";
  for (int i = 0; i < 3; i++) {
    unsigned shift = (unsigned)(30 - 10 * i);
    if (n && n % (1ull << shift) == 0) {
      snprintf(buf, len, "%llu%c", (unsigned long long)(n >> shift), units[i]);
      return;
    }
  }
  snprintf(buf, len, "%llu", (unsigned long long)n);
}

uint64_t size_option(const char *flag, const char *v, uint64_t min, uint64_t max) {
  uint64_t n;
  if (!parse_size(v, min, max, &n)) {
    char lo[32], hi[32];
    format_size(lo, sizeof lo, min);
    format_size(hi, sizeof hi, max);
    die_with_code(EXIT_USAGE, "%s needs a size from %s to %s, such as 512M or 8G", flag, lo, hi);
  }
  return n;
}

double cpus_option(const char *v) {
  double x;
  if (!parse_cpus(v, &x)) die_with_code(EXIT_USAGE, "--cpus needs a number from 0.01 to 1024, such as 1.0");
  return x;
}

void parse_env_option(char *kv, env_list_t *env) {
  switch (env_add(env, kv)) {
  case ENV_OK: return;
  case ENV_BAD_NAME: {
    int name_len = (int)strcspn(kv, "="); /* the name only: the value may be a secret */
    die_with_code(EXIT_USAGE, "--env: invalid name \"%.*s\": use [A-Za-z_][A-Za-z0-9_]*", name_len > 40 ? 40 : name_len, kv);
  }
  case ENV_TOO_MANY: die_with_code(EXIT_USAGE, "--env: at most %d variables", MAX_ENV);
  case ENV_NOT_NAME_VALUE: break;
  }
  die_with_code(EXIT_USAGE, "--env needs NAME=VALUE");
}
