#!/bin/sh
# Greets someone every few seconds; who comes from the environment.
if [ -z "$GREETING_NAME" ]; then
  echo "greeter: GREETING_NAME is not set; start me with -e GREETING_NAME=..." >&2
  exit 1
fi
while true; do
  echo "Hello, $GREETING_NAME!"
  sleep 5
done
