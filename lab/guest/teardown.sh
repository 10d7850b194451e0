#!/bin/bash
# Removes every network namespace whose name starts with PREFIX- and kills every process in it.
# usage: teardown.sh PREFIX
set -u
prefix=$1
for ns in $(ip netns list | awk '{print $1}' | grep -- "^$prefix-"); do
  pids=$(ip netns pids "$ns")
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  ip netns del "$ns"
done
exit 0
