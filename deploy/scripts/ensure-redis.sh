#!/bin/sh
# Make sure a Redis server answers on 127.0.0.1:6379; start (or install) one if not.
set -eu
if command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  exit 0
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found; installing Debian's redis-server" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq redis-server >/dev/null; fi
fi
mkdir -p /tmp/healthmon-redis
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir /tmp/healthmon-redis --logfile /tmp/healthmon-redis/redis.log
for _ in $(seq 1 50); do
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "error: Redis did not answer on 127.0.0.1:6379 (see /tmp/healthmon-redis/redis.log)" >&2
exit 1
