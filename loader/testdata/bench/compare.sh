#!/usr/bin/env bash
# Measures the loader of this tree against the loader of another commit
# (default: the commit before issue 12's changes) side by side in one run:
# both binaries read the same files, alternating, best of three. Prints
# rows/s (wall and CPU: on a shared machine the CPU figure is the steadier),
# peak live heap and peak RSS per reader, then the hostile-XML
# workbooks with their peak RSS and time. Usage (from the repository root):
#   loader/testdata/bench/compare.sh [BASE_COMMIT] [ROWS]
set -euo pipefail
base=${1:-81401c7}
rows=${2:-100000}
root=$(pwd)
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add --detach "$work/base" "$base" >/dev/null 2>&1
for tree in "$root" "$work/base"; do
  mkdir -p "$tree/cmd/loadercmp-tmp"
  cp "$root/loader/testdata/bench/loadercmp.go.txt" "$tree/cmd/loadercmp-tmp/main.go"
done
(cd "$root" && go build -o "$work/new" ./cmd/loadercmp-tmp; rm -rf cmd/loadercmp-tmp)
(cd "$work/base" && go build -o "$work/old" ./cmd/loadercmp-tmp)
"$work/new" -write "$work/users.xlsx" -rows "$rows"
"$work/new" -hostile "$work"
[ -n "${SKIP_HOSTILE:-}" ] && rm -f "$work"/nested.xlsx "$work"/empty-strings.xlsx
echo "| build | rows | best wall time | rows/s | CPU time | rows per CPU-second | peak live heap MiB | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
for i in 1 2 3; do
  "$work/old" -read "$work/users.xlsx" -label "before (${base})" >> "$work/old.txt"
  "$work/new" -read "$work/users.xlsx" -label "after" >> "$work/new.txt"
done
sort -t'|' -k5 -nr "$work/old.txt" | head -1
sort -t'|' -k5 -nr "$work/new.txt" | head -1
echo
echo "| hostile workbook | size | build | result | time | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for f in $(cd "$work" && ls nested.xlsx empty-strings.xlsx 2>/dev/null); do
  for b in old new; do
    "$work/$b" -read "$work/$f" -label "$b" -hostilereport || true
  done
done
