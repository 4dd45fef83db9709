# A friendly prompt: sandbox name and directory, in colour.
if [ -n "$BASH_VERSION" ]; then
  PS1='\[\e[1;36m\]\h\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '
  [ -r /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion
  cd /workspace 2>/dev/null || true
  [ -z "$DOCKSIDE_MOTD_SHOWN" ] && [ -r /etc/motd ] && cat /etc/motd && export DOCKSIDE_MOTD_SHOWN=1
fi
