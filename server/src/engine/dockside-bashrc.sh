# Dockside terminal start-up: the usual login files, then command reporting.
# First of all, this terminal's nonce (shellIntegration.ts) from descriptor 3, before anything of the
# learner's runs: kept in a variable that is not exported, the descriptor closed. Only reports that carry
# it count, so a program that prints a report of its own does not pass a check.
{ IFS= read -r __dockside_nonce <&3; } 2>/dev/null
exec 3<&-
# The welcome banner in the learner's language: /etc/profile.d/dockside.sh shows the English /etc/motd
# only while DOCKSIDE_MOTD_SHOWN is unset.
if [ "$DOCKSIDE_LANG" = ko ] && [ -z "$DOCKSIDE_MOTD_SHOWN" ]; then
  printf '%s\n' '' \
    '  Dockside 샌드박스입니다. Docker Engine이 따로 있는 나만의 머신입니다.' \
    '  이렇게 시작해 보세요:  docker version    docker run hello-world    docker images' \
    '  파일은 /workspace에 있습니다 (편집기에서도 보입니다).' ''
  export DOCKSIDE_MOTD_SHOWN=1
fi
[ -f /etc/profile ] && . /etc/profile
[ -f ~/.bashrc ] && . ~/.bashrc
# Every command counts, repeated ones too (only a leading space hides one).
HISTCONTROL=ignorespace
__dockside_entry() { HISTTIMEFORMAT= builtin history 1; }
__dockside_last=$(__dockside_entry | sed -E 's/^ *([0-9]+).*/\1/')
__dockside_prompt() {
  # The line's status and each status of the last pipeline it ran, first: any command here resets them.
  local status=$? pipestatus=("${PIPESTATUS[@]}") entry num cmd IFS=,
  entry=$(__dockside_entry)
  if [[ $entry =~ ^\ *([0-9]+)\*?\ +(.*)$ ]]; then
    num=${BASH_REMATCH[1]}
    cmd=${BASH_REMATCH[2]}
    if [[ $num != "$__dockside_last" ]]; then
      __dockside_last=$num
      # printf is a builtin: the nonce is in no program's arguments.
      printf '\e]633;E;%s;%s\a\e]633;D;%s;%s;%s\a' "$(printf %s "$cmd" | od -An -v -tx1 | tr -d ' \n')" \
        "$__dockside_nonce" "$status" "${pipestatus[*]}" "$__dockside_nonce"
    fi
  fi
  printf '\e]633;A\a'
}
PROMPT_COMMAND="__dockside_prompt${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
