#!/bin/bash
# pid 1 of a test VM (server/test/hosts/vm.ts): sets up the host the kernel command line names
# (dockside.layout=v2: cgroup2 alone, delegated as systemd does it; v1: systemd's hybrid layout), runs
# the runtime's checks on it and prints one line per check: "RESULT <name> ok|fail <detail>".
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
BB=/opt/dockside/busybox
RT=/opt/dockside/dockside-sandbox
export DOCKSIDE_DATA_DIR=/data/dockside

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
layout=$(sed -n 's/.*dockside\.layout=\([a-z0-9-]*\).*/\1/p' /proc/cmdline)

result() { echo "RESULT $1 $2 ${3:-}"; }
finish() {
  echo "DONE $layout"
  sync
  exec $BB poweroff -f
}
trap finish EXIT

for m in loop overlay ext4 veth bridge br_netfilter nf_tables nft_chain_nat nft_compat nf_nat nf_conntrack \
  xt_conntrack xt_MASQUERADE xt_addrtype xt_nat ip_tables iptable_nat iptable_filter ip6_tables; do
  $BB modprobe "$m" 2>/dev/null
done

cg=/sys/fs/cgroup
if [ "$layout" != v1 ]; then
  mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $cg
  for c in cpuset cpu io memory pids; do echo "+$c" >$cg/cgroup.subtree_control 2>/dev/null; done
  # As systemd runs a service: in its own leaf below system.slice.
  mkdir -p $cg/system.slice/dockside.service
  for c in cpuset cpu io memory pids; do echo "+$c" >$cg/system.slice/cgroup.subtree_control 2>/dev/null; done
  echo $$ >$cg/system.slice/dockside.service/cgroup.procs
else
  mount -t tmpfs -o mode=755 tmpfs $cg
  for c in cpu,cpuacct cpuset blkio memory devices freezer pids; do
    mkdir -p $cg/$c
    mount -t cgroup -o $c cgroup $cg/$c
  done
  ln -s cpu,cpuacct $cg/cpu
  ln -s cpu,cpuacct $cg/cpuacct
  mkdir -p $cg/unified
  mount -t cgroup2 cgroup2 $cg/unified
fi
result layout ok "$layout, kernel $(uname -r)"

mount /dev/vdb /data
# The base image is this VM's own root, as a sandbox base image: read-only, shared, idmapped.
mkdir -p $DOCKSIDE_DATA_DIR/images/base/vm/rootfs
mount --bind / $DOCKSIDE_DATA_DIR/images/base/vm/rootfs
ln -sfn vm $DOCKSIDE_DATA_DIR/images/base/current

limit_file() { if [ "$layout" = v2 ]; then echo "$cg/dockside/$1/$2"; else echo "$cg/$3/dockside/$1/$4"; fi; }
in_sb() { $RT exec s1 -- bash -c "$1"; }

# A host it cannot serve: cgroup v2 without the memory controller (cgroup_disable=memory).
if [ "$layout" = v2-nomem ]; then
  out=$($RT create s1 --range 10 --disk 1G 2>&1)
  code=$?
  if [ $code = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q 'lacks the memory controller'; then
    result refuses ok "$out"
  else
    result refuses fail "exit $code: $out"
  fi
  [ -e $DOCKSIDE_DATA_DIR/sandboxes/s1 ] && result refuses-cleanly fail "left a sandbox dir" || result refuses-cleanly ok
  exit
fi

start=$(date +%s%N)
if out=$($RT create s1 --range 10 --memory 512M --pids 600 --cpus 1 --disk 2G 2>&1); then
  result create ok "$((($(date +%s%N) - start) / 1000000)) ms"
else
  result create fail "$out"
  exit
fi

warnings=$(in_sb 'docker info 2>&1 >/dev/null' | tr '\n' ' ')
if in_sb 'docker info --format "{{.ServerVersion}} {{.CgroupVersion}} {{.MemoryLimit}} {{.PidsLimit}} {{.CPUCfsQuota}}"' | grep -q ' true true true$' &&
  ! echo "$warnings" | grep -qi 'limit'; then
  result docker-info ok "$(in_sb 'docker info --format "{{.ServerVersion}} cgroup v{{.CgroupVersion}}"')"
else
  result docker-info fail "$(in_sb 'docker info --format "{{json .}}"' | head -c 300) warnings: $warnings"
fi

tar -C /opt/dockside/bb -c . | $RT exec s1 -- docker import - bb >/dev/null
path='f=/sys/fs/cgroup/memory.max; [ -e $f ] || f=/sys/fs/cgroup/memory/memory.limit_in_bytes; cat $f'
seen=$(in_sb "docker run --rm --memory 64m bb sh -c '$path' 2>&1")
[ "$seen" = 67108864 ] && result container-memory-file ok "$seen" || result container-memory-file fail "$seen"
status=$(in_sb "docker run --rm --memory 64m bb sh -c 'head -c 200m /dev/zero | tail >/dev/null'; echo \$?" 2>&1 | tail -1)
[ "$status" = 137 ] && result container-oom ok "exit $status" || result container-oom fail "exit $status"
pids=$(in_sb "docker run --rm --pids-limit 20 bb sh -c 'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max'" 2>&1)
[ "$pids" = 20 ] && result container-pids ok "$pids" || result container-pids fail "$pids"
cpu=$(in_sb "docker run --rm --cpus 0.5 bb sh -c 'cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us'" 2>&1)
case "$cpu" in "50000 100000" | 50000) result container-cpu ok "$cpu" ;; *) result container-cpu fail "$cpu" ;; esac

status=$(in_sb 'head -c 1000m /dev/zero | tail >/dev/null; echo $?' 2>&1 | tail -1)
if [ "$status" = 137 ] && in_sb 'docker info --format "{{.ServerVersion}}"' >/dev/null 2>&1; then
  result sandbox-oom ok "exit $status, engine still answers"
else
  result sandbox-oom fail "exit $status; $(in_sb 'docker info' 2>&1 | tail -2)"
fi

before=$(cat "$(limit_file s1 memory.max memory memory.limit_in_bytes)")
if [ "$layout" = v2 ]; then target=/sys/fs/cgroup/memory.max; else target=/sys/fs/cgroup/memory/memory.limit_in_bytes; fi
if in_sb "echo 8589934592 > $target" 2>/dev/null; then
  result own-limits fail "the sandbox wrote $target"
elif [ "$(cat "$(limit_file s1 memory.max memory memory.limit_in_bytes)")" = "$before" ]; then
  result own-limits ok "refused, still $before"
else
  result own-limits fail "changed to $(cat "$(limit_file s1 memory.max memory memory.limit_in_bytes)")"
fi

# Terminals: cpu (v1: and cpuacct) in dockside-terminals/s1, outside dockside/; on v1 the rest the sandbox's.
tg=$cg/dockside-terminals
[ "$layout" = v1 ] && tg=$cg/cpu/dockside-terminals
if out=$($RT session s1 t-vm -- sh -c 'sleep 600' 2>&1); then
  holder=$(ps -e -o pid=,comm= | awk '$2 == "dockside-term" { print $1 }' | head -1)
  sock=$DOCKSIDE_DATA_DIR/sandboxes/s1/run/terminals/t-vm.sock
  own=yes
  [ "$layout" = v1 ] && ! grep -q ':memory:/dockside/s1/sandbox$' /proc/"$holder"/cgroup && own=no
  if [ -n "$holder" ] && grep -q ':/dockside-terminals/s1$' /proc/"$holder"/cgroup && [ $own = yes ] && [ -S "$sock" ] &&
    [ "$(stat -c %u:%a "$sock")" = 0:660 ]; then
    result session ok "holder $holder in $(grep -o ':[a-z,]*:/dockside[^ ]*' /proc/"$holder"/cgroup | sort -u | tr '\n' ' ')"
  else
    result session fail "holder '$holder' in $(tr '\n' ' ' </proc/"$holder"/cgroup 2>&1); socket $(stat -c %u:%a "$sock" 2>&1)"
  fi
else
  result session fail "$out"
fi

# Typing first: the terminals' group at ten times the default weight, all of it capped at half the CPUs
# and each sandbox's at half its --cpus (in 10 ms periods); all sandboxes (dockside/) at a quarter of it.
half=$(($(nproc) * 5000))
own=$((half < 5000 ? half : 5000))
if [ "$layout" = v2 ]; then
  w="$(cat $tg/cpu.weight) $(cat $cg/dockside/cpu.weight) $(cat $tg/cpu.max) / $(cat $tg/s1/cpu.max)"
  want="1000 25 $half 10000 / $own 10000"
else
  w="$(cat $tg/cpu.shares) $(cat $cg/cpu/dockside/cpu.shares) $(cat $tg/cpu.cfs_quota_us) $(cat $tg/cpu.cfs_period_us) / $(cat $tg/s1/cpu.cfs_quota_us)"
  want="10240 256 $half 10000 / $own"
fi
[ "$w" = "$want" ] && result cpu-weights ok "$w" || result cpu-weights fail "$w, want $want"

# v2: the terminals' group has memory and pids limits of its own (v1: the sandbox's, checked above).
if [ "$layout" = v2 ]; then
  l="$(cat $tg/s1/memory.max) $(cat $tg/s1/pids.max) $(cat $tg/s1/memory.swap.max 2>/dev/null || echo 0)"
  [ "$l" = "134217728 256 0" ] && result terminal-limits ok "$l" || result terminal-limits fail "$l, want 134217728 256 0"
else
  result terminal-limits ok "memory and pids: the sandbox's own"
fi

usage_us() {
  if [ "$layout" = v2 ]; then sed -n 's/^usage_usec //p' $tg/s1/cpu.stat; else echo $(($(cat $cg/cpuacct/dockside-terminals/s1/cpuacct.usage) / 1000)); fi
}
$RT session s1 t-hog -- sh -c 'yes >/dev/null & yes >/dev/null & wait' >/dev/null 2>&1
sleep 1
u0=$(usage_us) t0=$(date +%s%N)
sleep 3
u1=$(usage_us) t1=$(date +%s%N)
in_sb 'pkill -x yes'
permille=$(((u1 - u0) * 1000000 / (t1 - t0)))
if [ "$permille" -le $((own * 11 / 100)) ] && [ "$permille" -gt $((own * 3 / 100)) ]; then
  result terminal-hog ok "two yes used $permille/1000 CPU, quota $own/10000"
else
  result terminal-hog fail "two yes used $permille/1000 CPU, quota $own/10000"
fi

# Root inside, from the terminal and from exec: no process leaves or joins the terminals' group (v1 lets the
# sandbox's own process leave into its own cgroups, which only lowers it).
$RT session s1 t-esc -- bash -c 'for f in $(find /sys/fs/cgroup -name cgroup.procs); do echo $$ 2>/dev/null >$f && echo $f; done >/tmp/left; exec sleep 601' >/dev/null 2>&1
sleep 2
p=$(in_sb 'pgrep -f "^sleep 601"')
joined=$(in_sb "for f in \$(find /sys/fs/cgroup -name cgroup.procs); do echo $p 2>/dev/null >\$f && echo moved \$f; echo \$\$ 2>/dev/null >\$f; done; grep -c dockside-terminals /proc/self/cgroup")
left=$(in_sb 'cat /tmp/left')
hp=$(pgrep -f '^sleep 601' | head -1)
if [ "$layout" = v2 ]; then
  where=$(cat /proc/"$hp"/cgroup)
  [ -z "$left" ] && [ "$joined" = 0 ] && [ "$where" = 0::/dockside-terminals/s1 ] && result terminal-escape ok "refused; $where" ||
    result terminal-escape fail "left: $left; from exec: $joined; now $where"
else
  cpu=$(grep -o ':cpu,cpuacct:.*' /proc/"$hp"/cgroup)
  case "$cpu" in :cpu,cpuacct:/dockside-terminals/s1 | :cpu,cpuacct:/dockside/s1/sandbox*) inside=yes ;; *) inside=no ;; esac
  [ "$(echo "$joined" | tail -1)" = 0 ] && [ $inside = yes ] && result terminal-escape ok "none joined; the program's cpu cgroup $cpu" ||
    result terminal-escape fail "from exec: $joined; the program's cpu cgroup $cpu"
fi

# A memory hog and a fork bomb in a terminal, held by the terminal's own limits. (v1: the sandbox's own, as
# sandbox-oom and session show; this machine's cpu-priority test runs them there. Under emulation they
# would not fit the boot's time.)
if [ "$layout" = v1 ]; then
  result terminal-memory ok "v1: the sandbox's own memory cgroup"
  result terminal-pids ok "v1: the sandbox's own pids cgroup"
else
  mb=300 ev=$tg/s1/memory.events
  ooms0=$(sed -n 's/^oom_kill //p' $ev)
  $RT session s1 t-mem -- sh -c "head -c ${mb}m /dev/zero | tail >/dev/null; echo \$? >/tmp/mem.status" >/dev/null 2>&1
  for i in $(seq 120); do st=$(in_sb 'cat /tmp/mem.status 2>/dev/null'); [ -n "$st" ] && break; sleep 1; done
  ooms=$(sed -n 's/^oom_kill //p' $ev)
  [ "$st" = 137 ] && [ "$ooms" -gt "${ooms0:-0}" ] && result terminal-memory ok "exit $st, oom_kill $ooms0 -> $ooms in $ev" ||
    result terminal-memory fail "exit '$st', oom_kill '$ooms0' -> '$ooms' in $ev"

  pg=$tg/s1 max=256
  $RT session s1 t-bomb -- sh -c 'for i in $(seq 700); do sleep 60 & done' >/dev/null 2>&1
  for i in $(seq 60); do [ "$(sed -n 's/^max //p' $pg/pids.events)" -gt 0 ] && break; sleep 1; done
  n=$(cat $pg/pids.current) refused=$(sed -n 's/^max //p' $pg/pids.events)
  for q in $(cat $tg/s1/cgroup.procs); do [ "$(cat /proc/"$q"/comm 2>/dev/null)" = sleep ] && kill -9 "$q" 2>/dev/null; done
  [ "$n" -le $max ] && [ "$refused" -gt 0 ] && result terminal-pids ok "$n of $max, $refused forks refused" ||
    result terminal-pids fail "$n, limit $max, $refused forks refused"
fi

loop=$(losetup -l -n -O NAME | head -1)
$RT destroy s1
left=""
[ -e "$(dirname "$(limit_file s1 x memory x)")" ] && left="$left cgroup"
[ -e $tg/s1 ] && left="$left terminals-cgroup"
grep -q /sandboxes/s1 /proc/self/mountinfo && left="$left mount"
[ -n "$(losetup -l -n -O NAME)" ] && left="$left loop($loop)"
[ -e $DOCKSIDE_DATA_DIR/sandboxes/s1 ] && left="$left state"
ps -e -o uid= | awk '$1 >= 655360 && $1 < 720896' | grep -q . && left="$left processes"
[ -z "$left" ] && result destroy ok "nothing left" || result destroy fail "left:$left"
