#!/usr/bin/env bash
# The official mariadb image's entrypoint, for Debian's MariaDB 10.11 (also served as `mysql`): on a first
# start, the system tables in the data directory, root's password (MARIADB_ROOT_PASSWORD, or
# MARIADB_ALLOW_EMPTY_ROOT_PASSWORD / MARIADB_RANDOM_ROOT_PASSWORD), MARIADB_DATABASE, MARIADB_USER with
# MARIADB_PASSWORD and /docker-entrypoint-initdb.d/*; each MARIADB_ variable may be given as MYSQL_ too.
# Then mariadbd in the foreground as the user mysql, logging to stderr.
set -eo pipefail
shopt -s nullglob

mysql_log() {
	local type="$1"
	shift
	printf '%s [%s] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$type" "$*"
}
mysql_note() { mysql_log Note "$@"; }
mysql_warn() { mysql_log Warn "$@" >&2; }
mysql_error() {
	mysql_log ERROR "$@" >&2
	exit 1
}

# MARIADB_X from MARIADB_X, MYSQL_X, MARIADB_X_FILE or MYSQL_X_FILE (Docker secrets).
file_env() {
	local var="$1" def="${2:-}"
	local mysqlVar="${var/#MARIADB/MYSQL}"
	local fileVar="${var}_FILE" mysqlFileVar="${mysqlVar}_FILE"
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!mysqlVar:-}" ]; then
		val="${!mysqlVar}"
	elif [ "${!fileVar:-}" ]; then
		val="$(<"${!fileVar}")"
	elif [ "${!mysqlFileVar:-}" ]; then
		val="$(<"${!mysqlFileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar" "$mysqlFileVar"
}

# A setting of the server as it would run with these arguments (datadir, socket).
mysql_get_config() {
	local conf="$1"
	shift
	"$@" --verbose --help 2>/dev/null |
		awk -v conf="$conf" '$1 == conf && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }'
}

setup_env() {
	DATADIR="$(mysql_get_config 'datadir' "$@")"
	SOCKET="$(mysql_get_config 'socket' "$@")"
	file_env 'MARIADB_ROOT_HOST' '%'
	file_env 'MARIADB_DATABASE'
	file_env 'MARIADB_USER'
	file_env 'MARIADB_PASSWORD'
	file_env 'MARIADB_ROOT_PASSWORD'
	file_env 'MARIADB_ALLOW_EMPTY_ROOT_PASSWORD'
	file_env 'MARIADB_RANDOM_ROOT_PASSWORD'
	# mysql's name for the empty root password
	if [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -n "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ]; then
		MARIADB_ALLOW_EMPTY_ROOT_PASSWORD="$MYSQL_ALLOW_EMPTY_PASSWORD"
	fi
}

verify_minimum_env() {
	if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		mysql_error $'Database is uninitialized and password option is not specified\n\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD'
	fi
	if [ "$MARIADB_USER" = 'root' ]; then
		mysql_error $'MARIADB_USER="root", MARIADB_USER and MARIADB_PASSWORD are for configuring a regular user and cannot be used for the root user\n\tRemove MARIADB_USER="root" and use one of the following to control the root user password:\n\t- MARIADB_ROOT_PASSWORD\n\t- MARIADB_ALLOW_EMPTY_ROOT_PASSWORD\n\t- MARIADB_RANDOM_ROOT_PASSWORD'
	fi
	if [ -n "$MARIADB_USER" ] && [ -z "$MARIADB_PASSWORD" ]; then
		mysql_warn 'MARIADB_USER specified, but missing MARIADB_PASSWORD; MARIADB_USER will not be created'
	fi
}

# An SQL string literal's inside: backslashes and quotes escaped.
sql_escape() {
	local s="${1//\\/\\\\}"
	printf '%s' "${s//\'/\\\'}"
}

# The client as root on the temporary server's socket, with root's password once it has one.
mysql_client() {
	mariadb --defaults-extra-file=<(printf '[client]\npassword="%s"\n' "${ROOT_PASSWORD_SET//\"/\\\"}") \
		--protocol=socket -uroot -hlocalhost --socket="$SOCKET" --database=mysql "$@"
}

temp_server_start() {
	"$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
		--loose-innodb_buffer_pool_load_at_startup=0 &
	MARIADB_PID=$!
	mysql_note 'Waiting for server startup'
	local i
	for i in {30..0}; do
		if mysql_client -e 'SELECT 1' >/dev/null 2>&1; then break; fi
		if ! kill -0 "$MARIADB_PID" 2>/dev/null; then mysql_error 'Unable to start server.'; fi
		sleep 1
	done
	if [ "$i" = 0 ]; then mysql_error 'Unable to start server.'; fi
}

temp_server_stop() {
	kill "$MARIADB_PID"
	wait "$MARIADB_PID" || mysql_error 'Unable to shut down server.'
}

setup_db() {
	local root_password="$MARIADB_ROOT_PASSWORD"
	if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		root_password="$(tr -dc 'A-Za-z0-9!#%&()*+,-./:;<=>?@[]^_{|}~' </dev/urandom | head -c 32 || :)"
		mysql_note "GENERATED ROOT PASSWORD: $root_password"
	fi
	local pw host sql
	pw="$(sql_escape "$root_password")"
	host="$(sql_escape "$MARIADB_ROOT_HOST")"
	# mariadb-install-db made root (and anonymous users) for this host's other names, without a password.
	sql="SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');"
	sql+="DROP USER IF EXISTS root@'127.0.0.1', root@'::1', ''@'localhost';"
	sql+="EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\\'', @@hostname, '\\', \\'\\'@\\'', @@hostname, '\\'');"
	sql+="SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$pw');"
	if [ "$MARIADB_ROOT_HOST" != 'localhost' ]; then
		sql+="CREATE USER 'root'@'$host' IDENTIFIED BY '$pw';"
		sql+="GRANT ALL ON *.* TO 'root'@'$host' WITH GRANT OPTION;"
		sql+="GRANT PROXY ON ''@'%' TO 'root'@'$host' WITH GRANT OPTION;"
	fi
	if [ -n "$MARIADB_DATABASE" ]; then
		mysql_note "Creating database ${MARIADB_DATABASE}"
		sql+="CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE//\`/\`\`}\`;"
	fi
	if [ -n "$MARIADB_USER" ] && [ -n "$MARIADB_PASSWORD" ]; then
		mysql_note "Creating user ${MARIADB_USER}"
		local user
		user="$(sql_escape "$MARIADB_USER")"
		sql+="CREATE USER '$user'@'%' IDENTIFIED BY '$(sql_escape "$MARIADB_PASSWORD")';"
		if [ -n "$MARIADB_DATABASE" ]; then
			mysql_note "Giving user ${MARIADB_USER} access to schema ${MARIADB_DATABASE}"
			sql+="GRANT ALL ON \`${MARIADB_DATABASE//\`/\`\`}\`.* TO '$user'@'%';"
		fi
	fi
	mysql_note 'Securing system users (equivalent to running mysql_secure_installation)'
	mysql_client --binary-mode -e "$sql"
	ROOT_PASSWORD_SET="$root_password"
}

process_init_files() {
	local f
	echo
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
		*.sh)
			if [ -x "$f" ]; then
				mysql_note "$0: running $f"
				"$f"
			else
				mysql_note "$0: sourcing $f"
				# shellcheck disable=SC1090
				. "$f"
			fi
			;;
		*.sql) mysql_note "$0: running $f" && mysql_client --database="$MARIADB_DATABASE" <"$f" && echo ;;
		*.sql.gz) mysql_note "$0: running $f" && gunzip -c "$f" | mysql_client --database="$MARIADB_DATABASE" && echo ;;
		*) mysql_warn "$0: ignoring $f" ;;
		esac
	done
}

# An option first means "mariadbd with these options".
if [ "${1:0:1}" = '-' ]; then
	set -- mariadbd "$@"
fi

if [ "$1" = 'mariadbd' ] || [ "$1" = 'mysqld' ]; then
	mysql_note "Entrypoint script for MariaDB Server $(mariadbd --version | awk '{ print $3 }') started."
	setup_env "$@"
	if [ "$(id -u)" = '0' ]; then
		mkdir -p "$DATADIR" /run/mysqld
		find "$DATADIR" /run/mysqld \! -user mysql -exec chown mysql: '{}' +
		mysql_note 'Switching to dedicated user mysql'
		HOME=/var/lib/mysql exec setpriv --reuid=mysql --regid=mysql --init-groups "$BASH_SOURCE" "$@"
	fi
	if [ ! -d "$DATADIR/mysql" ]; then
		verify_minimum_env
		mysql_note 'Initializing database files'
		mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal --skip-test-db \
			--skip-log-bin --default-time-zone=SYSTEM >/dev/null
		mysql_note 'Database files initialized'
		mysql_note 'Starting temporary server'
		ROOT_PASSWORD_SET=
		temp_server_start "$@"
		mysql_note 'Temporary server started.'
		setup_db
		process_init_files
		mysql_note 'Stopping temporary server'
		temp_server_stop
		mysql_note 'Temporary server stopped'
		echo
		mysql_note 'MariaDB init process done. Ready for start up.'
		echo
	fi
fi

exec "$@"
