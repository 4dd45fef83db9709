#!/bin/sh
# The official redis image's entrypoint, with setpriv (util-linux) for gosu: a first argument that is an
# option or a .conf file runs redis-server with it; redis-server runs as the user redis, owning /data.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	HOME=/data exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# The official image compiles redis with protected mode off (a container is reached through its
# published port); Debian's redis-server has it on, so it is turned off here, after any config file so
# that a later --protected-mode of the user's still wins.
if [ "$1" = 'redis-server' ]; then
	shift
	if [ -n "${1:-}" ] && [ "${1#-}" = "$1" ]; then
		conf=$1
		shift
		set -- redis-server "$conf" --protected-mode no "$@"
	else
		set -- redis-server --protected-mode no "$@"
	fi
fi

um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
