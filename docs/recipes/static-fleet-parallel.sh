#!/bin/sh
# A static fleet over ssh with GNU parallel: shard I of N runs on machine I, all with one --seed; each
# shard's XML comes back over ssh into OUT/shard-I.xml, and tojimari import merges the files into one scan
# (docs/static-fleet.md).
#
#   SHARDS=3 SEED=2026 TARGETS=198.18.0.0/15 docs/recipes/static-fleet-parallel.sh
#
# ON is how to run a command on shard I's machine, {} standing for I (default: ssh to scanner1, scanner2,
# ...). The exclude file is read on each machine: put the same file at the same path on all of them.
set -eu
SHARDS=${SHARDS:-3}
SEED=${SEED:-2026}
PORTS=${PORTS:-1-1024}
TARGETS=${TARGETS:-198.18.0.0/15}
EXCLUDE=${EXCLUDE:-/etc/tojimari/exclude.txt}
OUT=${OUT:-.}
[ -n "${ON:-}" ] || ON='ssh scanner{}'

# --tag prefixes each shard's messages (stderr) with its number; the XML goes to its file, untagged.
parallel --tag --halt now,fail=1 \
  "$ON tojimari scan -sS -n -Pn --no-store -p $PORTS --shard {}/$SHARDS --seed $SEED --excludefile $EXCLUDE -oX - $TARGETS > $OUT/shard-{}.xml" \
  ::: $(seq 1 "$SHARDS")

tojimari import "$OUT"/shard-*.xml
