#!/bin/sh
# Builds `cachey`, stamped with the build time; the previous build stays as `cachey:previous`.
docker tag cachey cachey:previous 2>/dev/null
docker build --build-arg BUILT_AT="$(date +%s%N)" -t cachey .
