/* The hello-world image's program: what Docker just did, step by step, in Korean or English. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int korean(void) {
  const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v) return strncmp(v, "ko", 2) == 0;
  }
  return 0;
}

int main(void) {
  const char *msg = korean() ? ko : en;
  size_t len = strlen(msg);
  while (len > 0) {
    ssize_t n = write(1, msg, len);
    if (n <= 0) return 1;
    msg += n;
    len -= (size_t)n;
  }
  return 0;
}
