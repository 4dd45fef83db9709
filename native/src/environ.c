/* The environment a command starts with inside a sandbox: nothing of the caller's, a root shell's basics
 * and the request's own variables. Shared by the runtime's exec and session and by the pod agent. */
#include "sandbox.h"

#include <stdlib.h>

void command_environ(const state_t *st, const env_list_t *env) {
  clearenv();
  setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
  setenv("HOME", "/root", 1);
  setenv("USER", "root", 1);
  setenv("LANG", "C.UTF-8", 1);
  setenv("HOSTNAME", st->id, 1);
  for (int n = 0; n < env->n; n++) putenv(env->vars[n]);
}
