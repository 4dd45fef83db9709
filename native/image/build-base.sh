#!/usr/bin/env bash
# Builds the sandbox base image (Debian trixie minbase + Docker Engine 26 with BuildKit and Compose +
# learner tools) once, cached
# under $DOCKSIDE_DATA_DIR/images/base/<hash of this recipe>/rootfs, with `current` pointing at it.
# Rebuilt only when the recipe changes. Every sandbox shares it read-only through an idmapped mount.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${DOCKSIDE_DATA_DIR:-/var/lib/dockside}
mirror=${DOCKSIDE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Debian 13: docker.io 26.1, containerd 1.7, docker-buildx (BuildKit) and the compose v2 plugin.
suite=trixie
base=$data/images/base

# The recipe's identity: every file's content and every symlink's target.
hash=$(cd "$here" && find . \( -type f -o -type l \) ! -name '*.md' | sort | while IFS= read -r f; do
  if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else sha256sum "$f"; fi
done | sha256sum | cut -c1-16)
target=$base/$hash
if [ -e "$target/rootfs/.dockside-complete" ]; then
  ln -sfn "$hash" "$base/current"
  echo "sandbox base image: up to date ($hash)"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "build-base: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
packages=$(grep -v '^#' "$here/packages.txt" | grep -v '^$' | paste -sd, -)
tmp=$base/.building-$hash
rm -rf "$tmp"
mkdir -p "$tmp"
echo "sandbox base image: building $hash (debootstrap $suite from $mirror; about a minute)"
start=$(date +%s)
# debootstrap prints one line per stage; show them as progress.
debootstrap --variant=minbase --include="$packages" "$suite" "$tmp/rootfs" "$mirror" 2>&1 |
  while IFS= read -r line; do
    case "$line" in I:\ Retrieving* | I:\ Validating* | I:\ Extracting* | I:\ Unpacking* | I:\ Configuring*) ;; *) echo "  $line" ;; esac
  done
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "build-base: debootstrap failed" >&2; exit 1; }

cp -a "$here/files/." "$tmp/rootfs/"
mkdir -p "$tmp/rootfs/workspace"
chmod 0755 "$tmp/rootfs/workspace"
rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"*
touch "$tmp/rootfs/.dockside-complete"
rm -rf "$target"
mv "$tmp" "$target"
ln -sfn "$hash" "$base/current"
echo "sandbox base image: built $hash in $(( $(date +%s) - start )) s ($(du -sh "$target/rootfs" | cut -f1))"
