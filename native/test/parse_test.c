/* Unit tests of dockside-sandbox's argument checks (src/parse.c), run by `make test` without root. The
 * forms that exit run in a forked child: its exit code and its one line on stderr are checked. */
#include "../src/sandbox.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static int failures, checks;

#define CHECK(cond, ...)                                                                                         \
  do {                                                                                                           \
    checks++;                                                                                                    \
    if (!(cond)) {                                                                                               \
      failures++;                                                                                                \
      fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                                           \
      fprintf(stderr, __VA_ARGS__);                                                                              \
      fputc('\n', stderr);                                                                                       \
    }                                                                                                            \
  } while (0)

static const uint64_t K = 1ull << 10, M = 1ull << 20, G = 1ull << 30;

static void size_is(const char *v, uint64_t min, uint64_t max, bool ok, uint64_t want) {
  uint64_t got = 12345;
  bool r = parse_size(v, min, max, &got);
  CHECK(r == ok, "parse_size(\"%s\", %llu, %llu) gave %s", v ? v : "NULL", (unsigned long long)min,
        (unsigned long long)max, r ? "ok" : "an error");
  if (ok && r) CHECK(got == want, "parse_size(\"%s\") = %llu, not %llu", v, (unsigned long long)got, (unsigned long long)want);
  if (!r) CHECK(got == 12345, "parse_size(\"%s\") wrote its result though it failed", v ? v : "NULL");
}

static void test_parse_size(void) {
  const uint64_t lo = 64 * M, hi = 256 * G; /* --memory */
  size_is("1G", lo, hi, true, G);
  size_is("1g", lo, hi, true, G);
  size_is("512M", lo, hi, true, 512 * M);
  size_is("512m", lo, hi, true, 512 * M);
  size_is("65536K", lo, hi, true, 64 * M);
  size_is("65536k", lo, hi, true, 64 * M);
  size_is("67108864", lo, hi, true, 64 * M); /* bytes */
  size_is("64M", lo, hi, true, lo);          /* the exact bounds */
  size_is("256G", lo, hi, true, hi);
  size_is("67108863", lo, hi, false, 0); /* one byte either side */
  size_is("274877906945", lo, hi, false, 0);
  size_is("63M", lo, hi, false, 0);
  size_is("257G", lo, hi, false, 0);
  size_is("0", lo, hi, false, 0);
  size_is("0", 0, hi, true, 0);
  size_is("", lo, hi, false, 0);
  size_is(NULL, lo, hi, false, 0);
  size_is("G", lo, hi, false, 0);
  size_is("-1G", lo, hi, false, 0);
  size_is("-0", 0, hi, false, 0);
  size_is("+1G", lo, hi, false, 0);
  size_is(" 1G", lo, hi, false, 0);
  size_is("1G ", lo, hi, false, 0);
  size_is("1 G", lo, hi, false, 0);
  size_is("1GB", lo, hi, false, 0);
  size_is("1GG", lo, hi, false, 0);
  size_is("1T", lo, hi, false, 0);
  size_is("1.5G", lo, hi, false, 0);
  size_is("0x40M", lo, hi, false, 0);
  size_is("lots", lo, hi, false, 0);
  /* Overflow: of strtoull itself, and of the multiplication by the unit. */
  size_is("99999999999999999999G", 0, UINT64_MAX, false, 0);
  size_is("99999999999999999999", 0, UINT64_MAX, false, 0);
  size_is("18446744073709551615", 0, UINT64_MAX, true, UINT64_MAX);
  size_is("18446744073709551616", 0, UINT64_MAX, false, 0);
  size_is("17179869183G", 0, UINT64_MAX, true, 17179869183ull * G);
  size_is("17179869184G", 0, UINT64_MAX, false, 0); /* 2^64 exactly */
  size_is("18014398509481984K", 0, UINT64_MAX, false, 0);
  size_is("17592186044416M", 0, UINT64_MAX, false, 0);
  size_is("16777216G", lo, hi, false, 0); /* 2^54: no wrap to a small value */
  /* --disk's bounds. */
  size_is("256M", 256 * M, 2048 * G, true, 256 * M);
  size_is("2048G", 256 * M, 2048 * G, true, 2048 * G);
  size_is("2049G", 256 * M, 2048 * G, false, 0);
  size_is("8G", 256 * M, 2048 * G, true, 8 * G);
  size_is("1K", K, K, true, K);
}

static void uint_is(const char *v, uint64_t min, uint64_t max, bool ok, uint64_t want) {
  uint64_t got = 12345;
  bool r = parse_uint(v, min, max, &got);
  CHECK(r == ok, "parse_uint(\"%s\", %llu, %llu) gave %s", v ? v : "NULL", (unsigned long long)min,
        (unsigned long long)max, r ? "ok" : "an error");
  if (ok && r) CHECK(got == want, "parse_uint(\"%s\") = %llu, not %llu", v, (unsigned long long)got, (unsigned long long)want);
  if (!r) CHECK(got == 12345, "parse_uint(\"%s\") wrote its result though it failed", v ? v : "NULL");
}

static void test_parse_uint(void) {
  /* --range: 1..16383 */
  uint_is("1", 1, MAX_RANGE, true, 1);
  uint_is("16383", 1, MAX_RANGE, true, 16383);
  uint_is("16384", 1, MAX_RANGE, false, 0);
  uint_is("0", 1, MAX_RANGE, false, 0);
  uint_is("00042", 1, MAX_RANGE, true, 42);
  uint_is("-1", 1, MAX_RANGE, false, 0);
  uint_is("-16383", 1, MAX_RANGE, false, 0);
  uint_is("+5", 1, MAX_RANGE, false, 0);
  uint_is(" 5", 1, MAX_RANGE, false, 0);
  uint_is("5 ", 1, MAX_RANGE, false, 0);
  uint_is("5x", 1, MAX_RANGE, false, 0);
  uint_is("5.0", 1, MAX_RANGE, false, 0);
  uint_is("0x10", 1, MAX_RANGE, false, 0);
  uint_is("1e3", 1, MAX_RANGE, false, 0);
  uint_is("", 1, MAX_RANGE, false, 0);
  uint_is(NULL, 1, MAX_RANGE, false, 0);
  uint_is("4294967297", 1, MAX_RANGE, false, 0); /* 2^32 + 1: no truncation to 1 */
  uint_is("18446744073709551615", 0, UINT64_MAX, true, UINT64_MAX);
  uint_is("18446744073709551616", 0, UINT64_MAX, false, 0);
  uint_is("99999999999999999999", 0, UINT64_MAX, false, 0);
  /* --pids, --cols/--rows, connect's port */
  uint_is("64", 64, 1u << 22, true, 64);
  uint_is("63", 64, 1u << 22, false, 0);
  uint_is("4194304", 64, 1u << 22, true, 1u << 22);
  uint_is("4194305", 64, 1u << 22, false, 0);
  uint_is("1000", 1, MAX_TERMINAL_SIZE, true, 1000);
  uint_is("1001", 1, MAX_TERMINAL_SIZE, false, 0);
  uint_is("65535", 1, 65535, true, 65535);
  uint_is("65536", 1, 65535, false, 0);
}

static void cpus_is(const char *v, bool ok, double want) {
  double got = -1;
  bool r = parse_cpus(v, &got);
  CHECK(r == ok, "parse_cpus(\"%s\") gave %s", v ? v : "NULL", r ? "ok" : "an error");
  if (ok && r) CHECK(got == want, "parse_cpus(\"%s\") = %g, not %g", v, got, want);
}

static void test_parse_cpus(void) {
  cpus_is("1.0", true, 1.0);
  cpus_is("1", true, 1.0);
  cpus_is("0.5", true, 0.5);
  cpus_is(".5", true, 0.5);
  cpus_is("0.01", true, 0.01);
  cpus_is("1024", true, 1024);
  cpus_is("0.009", false, 0);
  cpus_is("1024.01", false, 0);
  cpus_is("0", false, 0);
  cpus_is("-1", false, 0);
  cpus_is("+1", false, 0);
  cpus_is("1e0", false, 0);
  cpus_is("0x1p0", false, 0);
  cpus_is("inf", false, 0);
  cpus_is("nan", false, 0);
  cpus_is("1.2.3", false, 0);
  cpus_is(".", false, 0);
  cpus_is("", false, 0);
  cpus_is(NULL, false, 0);
  cpus_is(" 1", false, 0);
  cpus_is("1 ", false, 0);
}

static void test_names(void) {
  static const char *good_ids[] = {"a", "0", "rt-a", "abc-123", "a-", "9-9-9", "0123456789012345678901234567890123456789"};
  static const char *bad_ids[] = {"", "-a", "A", "rt-A", "Bad_Id", "a_b", "a.b", "..", "../etc", "a/b", ".", "a b",
                                  "a\n", "é", "01234567890123456789012345678901234567890" /* 41 */};
  for (size_t i = 0; i < sizeof good_ids / sizeof *good_ids; i++) CHECK(valid_id(good_ids[i]), "valid_id(\"%s\") refused", good_ids[i]);
  for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) CHECK(!valid_id(bad_ids[i]), "valid_id(\"%s\") accepted", bad_ids[i]);
  CHECK(!valid_id(NULL), "valid_id(NULL) accepted");
  char long_id[5000];
  memset(long_id, 'a', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  CHECK(!valid_id(long_id), "valid_id accepted 4999 characters");

  static const char *good_names[] = {"t1", "0", "shell", "a-b", "01234567890123456789012345678901" /* 32 */};
  static const char *bad_names[] = {"", "-t", "T1", "t_1", "t.1", "..", "a/b", "t 1", "t1\n",
                                    "012345678901234567890123456789012" /* 33 */};
  for (size_t i = 0; i < sizeof good_names / sizeof *good_names; i++)
    CHECK(valid_terminal_name(good_names[i]), "valid_terminal_name(\"%s\") refused", good_names[i]);
  for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++)
    CHECK(!valid_terminal_name(bad_names[i]), "valid_terminal_name(\"%s\") accepted", bad_names[i]);
  CHECK(!valid_terminal_name(NULL), "valid_terminal_name(NULL) accepted");
}

static void env_is(const char *kv, env_error_t want) {
  env_list_t env = {0};
  char buf[256];
  snprintf(buf, sizeof buf, "%s", kv);
  env_error_t got = env_add(&env, buf);
  CHECK(got == want, "env_add(\"%s\") = %d, not %d", kv, got, want);
  if (want == ENV_OK && got == ENV_OK) {
    CHECK(env.n == 1 && !strcmp(env.vars[0], kv), "env_add(\"%s\") kept \"%s\"", kv, env.n ? env.vars[0] : "");
    /* The value is blanked where it was (argv), the name kept. */
    const char *eq = strchr(kv, '=');
    size_t name = (size_t)(eq - kv), value = strlen(eq + 1);
    CHECK(!strncmp(buf, kv, name + 1) && strspn(buf + name + 1, "*") == value && strlen(buf) == strlen(kv),
          "env_add(\"%s\") left \"%s\" in argv", kv, buf);
    free(env.vars[0]);
  } else CHECK(!strcmp(buf, kv) && env.n == 0, "a refused env_add(\"%s\") changed something", kv);
}

static void test_env(void) {
  env_is("A=1", ENV_OK);
  env_is("a_b=", ENV_OK); /* an empty value */
  env_is("_X9=a=b", ENV_OK);
  env_is("NONCE=secret value", ENV_OK);
  env_is("A", ENV_NOT_NAME_VALUE);
  env_is("", ENV_NOT_NAME_VALUE);
  env_is("=1", ENV_NOT_NAME_VALUE);
  env_is("1A=x", ENV_BAD_NAME);
  env_is("A-B=x", ENV_BAD_NAME);
  env_is("A B=x", ENV_BAD_NAME);
  env_is("A.B=x", ENV_BAD_NAME);
  env_is("É=x", ENV_BAD_NAME);
  env_list_t env = {0};
  char kv[MAX_ENV + 1][16];
  for (int i = 0; i < MAX_ENV; i++) {
    snprintf(kv[i], sizeof kv[i], "V%d=x", i);
    CHECK(env_add(&env, kv[i]) == ENV_OK, "env_add of variable %d refused", i);
  }
  snprintf(kv[MAX_ENV], sizeof kv[MAX_ENV], "ONE_MORE=x");
  CHECK(env_add(&env, kv[MAX_ENV]) == ENV_TOO_MANY, "env_add took more than %d variables", MAX_ENV);
  CHECK(env.n == MAX_ENV, "env holds %d variables", env.n);
  for (int i = 0; i < env.n; i++) free(env.vars[i]);
}

static void test_clean_path(void) {
  static const char *good[] = {"/", "/workspace", "/workspace/a.txt", "/a/.hidden", "/a/..b", "/a/b.", "/a/...", "/a b/c"};
  static const char *bad[] = {"", "workspace", "./a", "/workspace/", "//", "/a//b", "/.", "/..", "/a/.", "/a/..",
                              "/a/./b", "/a/../b", "/../etc"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) CHECK(clean_path(good[i]), "clean_path(\"%s\") refused", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(!clean_path(bad[i]), "clean_path(\"%s\") accepted", bad[i]);
  char p[MAX_PATH_LEN + 2];
  memset(p, 'a', sizeof p);
  p[0] = '/';
  p[MAX_PATH_LEN] = '\0';
  CHECK(clean_path(p), "clean_path refused %d bytes", MAX_PATH_LEN);
  p[MAX_PATH_LEN] = 'a';
  p[MAX_PATH_LEN + 1] = '\0';
  CHECK(!clean_path(p), "clean_path accepted %d bytes", MAX_PATH_LEN + 1);
}

static void test_hex_digest(void) {
  static const char *good[] = {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
  static const char *bad[] = {"", "abc", "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
                              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
                              "../../../../etc/shadow/0123456789abcdef0123456789abcdef0123456789"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) CHECK(valid_hex_digest(good[i]), "valid_hex_digest(\"%s\") refused", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(!valid_hex_digest(bad[i]), "valid_hex_digest(\"%s\") accepted", bad[i]);
}

static char last_stderr[4096];

/* Runs `fn(arg)` in a child; checks that it exits with `code` and that its stderr matches `message`. */
static void exits_with(const char *what, void (*fn)(const void *), const void *arg, int code, const char *message) {
  int out[2];
  if (pipe(out) < 0) {
    perror("pipe");
    exit(1);
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(1);
  }
  if (pid == 0) {
    close(out[0]);
    dup2(out[1], 2);
    fn(arg);
    _exit(0);
  }
  close(out[1]);
  char *buf = last_stderr;
  size_t got = 0;
  for (ssize_t n; got < sizeof last_stderr - 1 && (n = read(out[0], buf + got, sizeof last_stderr - 1 - got)) > 0;) got += (size_t)n;
  buf[got] = '\0';
  close(out[0]);
  int status;
  waitpid(pid, &status, 0);
  int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  CHECK(exit_code == code, "%s exited with %d, not %d (stderr: %s)", what, exit_code, code, buf);
  if (message) {
    CHECK(strstr(buf, message) != NULL, "%s said \"%s\", without \"%s\"", what, buf, message);
    CHECK(!strncmp(buf, "dockside-sandbox: test: ", 24) && strchr(buf, '\n') == buf + got - 1,
          "%s did not say one dockside-sandbox line: \"%s\"", what, buf);
  }
}

static void run_checked_id(const void *id) { checked_id(id); }
static void run_memory(const void *v) { size_option("--memory", v, 64 * M, 256 * G); }
static void run_disk(const void *v) { size_option("--disk", v, 256 * M, 2048 * G); }
static void run_range(const void *v) { uint_option("--range", v, 1, MAX_RANGE); }
static void run_cpus(const void *v) { cpus_option(v); }
static void run_env(const void *kv) {
  env_list_t env = {0};
  char buf[256];
  snprintf(buf, sizeof buf, "%s", (const char *)kv);
  parse_env_option(buf, &env);
}

static void test_exiting_forms(void) {
  current_command = "test";
  exits_with("checked_id(\"rt-a\")", run_checked_id, "rt-a", 0, NULL);
  exits_with("checked_id(NULL)", run_checked_id, NULL, EXIT_USAGE, "missing sandbox id");
  exits_with("checked_id(\"../etc\")", run_checked_id, "../etc", EXIT_USAGE, "invalid sandbox id \"../etc\"");
  exits_with("checked_id(\"Bad_Id\")", run_checked_id, "Bad_Id", EXIT_USAGE, "invalid sandbox id \"Bad_Id\"");
  exits_with("--memory 1G", run_memory, "1G", 0, NULL);
  exits_with("--memory lots", run_memory, "lots", EXIT_USAGE, "--memory needs a size from 64M to 256G");
  exits_with("--memory 99999999999999999999G", run_memory, "99999999999999999999G", EXIT_USAGE, "--memory needs a size");
  exits_with("--memory (none)", run_memory, NULL, EXIT_USAGE, "--memory needs a size");
  exits_with("--disk 1K", run_disk, "1K", EXIT_USAGE, "--disk needs a size from 256M to 2048G");
  exits_with("--range 16383", run_range, "16383", 0, NULL);
  exits_with("--range 16384", run_range, "16384", EXIT_USAGE, "--range needs a whole number from 1 to 16383");
  exits_with("--range -1", run_range, "-1", EXIT_USAGE, "--range needs a whole number from 1 to 16383");
  exits_with("--cpus 1.5", run_cpus, "1.5", 0, NULL);
  exits_with("--cpus nan", run_cpus, "nan", EXIT_USAGE, "--cpus needs a number");
  exits_with("--env A=1", run_env, "A=1", 0, NULL);
  exits_with("--env A", run_env, "A", EXIT_USAGE, "--env needs NAME=VALUE");
  exits_with("--env 1A=x", run_env, "1A=x", EXIT_USAGE, "--env: invalid name \"1A\"");
  /* The message names the variable, never its value (a terminal's nonce travels in --env). */
  exits_with("--env B-AD=secret", run_env, "B-AD=secret", EXIT_USAGE, "invalid name \"B-AD\":");
  CHECK(!strstr(last_stderr, "secret"), "--env's message shows the value: %s", last_stderr);
}

int main(void) {
  test_parse_size();
  test_parse_uint();
  test_parse_cpus();
  test_names();
  test_env();
  test_clean_path();
  test_hex_digest();
  test_exiting_forms();
  if (failures) {
    fprintf(stderr, "parse_test: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("parse_test: %d checks passed\n", checks);
  return 0;
}
