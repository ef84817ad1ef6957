#!/bin/sh
# The example Space's model "download": a stage-1 one-shot (type = oneshot in
# hfinit.ini) that puts the weights the pools read into $HF_HOME once, before
# the pools start. Offline: it copies them from the image (models/ under the
# working directory) instead of fetching them from the Hub. A weight already
# there is kept, so a restart of the container is done in milliseconds.
# Each file is copied to a temporary name and renamed, so a copy cut short
# (a timeout, a full disk) never looks like a finished one.
set -eu
src=${1:-models}
dst=${HF_HOME:-$HOME/.cache/huggingface}/example-space
mkdir -p "$dst"
n=0
for f in "$src"/*.bin; do
	name=${f##*/}
	[ -s "$dst/$name" ] && continue
	cp "$f" "$dst/.$name.part"
	mv -f "$dst/.$name.part" "$dst/$name"
	n=$((n + 1))
done
echo "models in $dst: $n fetched"
