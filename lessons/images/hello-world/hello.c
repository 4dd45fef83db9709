/* The hello-world image's program: what Docker just did, step by step, in Korean or English (by LC_ALL,
 * LC_MESSAGES or LANG, as a C library would choose). Freestanding, with no C library, so the image stays a
 * few kilobytes like Docker's own: it reads its environment from the stack and makes two system calls.
 * Built with: gcc -static -nostdlib -Os (x86-64 Linux). */
static const char en[] =
    "\n"
    "Hello from Docker!\n"
    "This message shows that your installation appears to be working correctly.\n"
    "\n"
    "To generate this message, Docker took the following steps:\n"
    " 1. The Docker client contacted the Docker daemon.\n"
    " 2. The Docker daemon pulled the \"hello-world\" image from the registry\n"
    "    (in Dockside, a local registry standing in for Docker Hub).\n"
    " 3. The Docker daemon created a new container from that image, which runs the\n"
    "    program that produced the output you are currently reading.\n"
    " 4. The Docker daemon streamed that output to the Docker client, which sent it\n"
    "    to your terminal.\n"
    "\n"
    "To try something more ambitious, you can run a shell in a container with:\n"
    " $ docker run -it busybox sh\n"
    "\n"
    "Run it again and notice: no pull this time. The image is already on your machine.\n"
    "\n";

static const char ko[] =
    "\n"
    "Docker가 인사합니다! (Hello from Docker!)\n"
    "이 메시지가 보인다면 Docker가 올바르게 동작하고 있는 것입니다.\n"
    "\n"
    "이 메시지를 보여 주기 위해 Docker는 다음 단계를 거쳤습니다:\n"
    " 1. Docker 클라이언트가 Docker 데몬에 요청을 보냈습니다.\n"
    " 2. Docker 데몬이 레지스트리에서 \"hello-world\" 이미지를 내려받았습니다(pull).\n"
    "    (Dockside에서는 Docker Hub를 대신하는 로컬 레지스트리입니다.)\n"
    " 3. Docker 데몬이 그 이미지로 새 컨테이너를 만들고, 지금 읽고 있는 이 출력을\n"
    "    만드는 프로그램을 실행했습니다.\n"
    " 4. Docker 데몬이 그 출력을 Docker 클라이언트로 보냈고, 클라이언트가 여러분의\n"
    "    터미널에 보여 주었습니다.\n"
    "\n"
    "조금 더 해 보고 싶다면 컨테이너 안에서 셸을 실행해 보세요:\n"
    " $ docker run -it busybox sh\n"
    "\n"
    "한 번 더 실행해 보세요. 이번에는 pull이 없습니다. 이미지가 이미 내 머신에 있으니까요.\n"
    "\n";

static long syscall3(long n, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

static unsigned long length(const char *s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}

/* The value of NAME in envp ("" when unset). */
static const char *env(char **envp, const char *name) {
  unsigned long n = length(name);
  for (; *envp; envp++) {
    unsigned long i = 0;
    while (i < n && (*envp)[i] == name[i]) i++;
    if (i == n && (*envp)[n] == '=') return *envp + n + 1;
  }
  return "";
}

static int korean(char **envp) {
  static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
  for (unsigned long i = 0; i < sizeof vars / sizeof *vars; i++) {
    const char *v = env(envp, vars[i]);
    if (*v) return v[0] == 'k' && v[1] == 'o';
  }
  return 0;
}

/* Called by _start with the initial stack: argc, argv..., NULL, envp..., NULL. */
__attribute__((used, noreturn)) void hello_main(long *sp) {
  char **envp = (char **)(sp + 1 + sp[0] + 1);
  const char *msg = korean(envp) ? ko : en;
  unsigned long len = length(msg);
  int status = 0;
  while (len > 0) {
    long n = syscall3(1 /* write */, 1, (long)msg, (long)len);
    if (n <= 0) {
      status = 1;
      break;
    }
    msg += n;
    len -= (unsigned long)n;
  }
  for (;;) syscall3(60 /* exit */, status, 0, 0);
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call hello_main\n");
