#!/usr/bin/env bash
# Privacy reports vs the merge, on the generator's 1M workload, each report as a pass of its own
# (`kbix run report`, the tests). A run's merge step counts the disclosure classes in the output
# scan's pass instead: its real cost in the merge is measured by bench/domain/disclosure.sh.
#   bench/reports/run.sh BUILD_DIR WORK_DIR [PEOPLE]     (default 1,000,000)
# Needs a built BUILD_DIR (targets kbix-gen, domain_bench, privacy_bench). Prints a Markdown table;
# each step is run 3 times and the median wall and CPU (user + system) times are shown. On a shared
# machine the CPU time is the steadier figure; the ratio is given for both.
set -euo pipefail
build=$1 work=$2 people=${3:-1000000}
cd "$(dirname "$0")/../.."
mkdir -p "$work"
tool() { find "$build" -name "$1" -type f -perm -u+x | head -1; }
gen=$(tool kbix-gen) domain_bench=$(tool domain_bench) privacy_bench=$(tool privacy_bench)
[ -s "$work/extract.csv" ] ||
  "$gen" --people "$people" --seed 7 --invalid-rate 0.01 --duplicate-rate 0.005 \
    --extract "$work/extract.csv" --return "$work/return.csv"
median() {  # NAME COMMAND...: median wall and CPU seconds of 3 runs, peak RSS (MB) of the last
  local name=$1; shift
  local walls=() cpus=()
  for _ in 1 2 3; do
    /usr/bin/time -v -o "$work/time.txt" "$@" 2>/dev/null >/dev/null
    walls+=("$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt" |
      awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')")
    cpus+=("$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$work/time.txt")")
  done
  local wall cpu rss
  wall=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 2p)
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n 2p)
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
  printf '| %s | %.2f s | %.2f s | %.0f MB |\n' "$name" "$wall" "$cpu" "$((rss / 1024))"
  echo "$wall $cpu" >"$work/last.txt"
}
echo "| step ($people people) | wall (median of 3) | CPU user+sys (median) | peak RSS |"
echo "|---|---|---|---|"
median "merge + pseudonymise + scan (domain_bench)" \
  "$domain_bench" merge "$work/return.csv" "$work/extract.csv" "$work/output.csv"
merge=$(cat "$work/last.txt")
median "disclosure report on the output" "$privacy_bench" disclosure "$work/output.csv"
disclosure=$(cat "$work/last.txt")
# Suppression rewrites its input: each of the 3 runs starts from a fresh copy (the copy is timed
# too, so this figure is an upper bound).
median "copy + disclosure + local suppression + rewrite" bash -c \
  'cp "$1" "$2" && exec "$3" suppress "$2"' _ "$work/output.csv" "$work/output-suppress.csv" \
  "$privacy_bench"
median "quality report (extract + return)" \
  "$privacy_bench" quality "$work/extract.csv" "$work/return.csv"
echo
echo "$disclosure $merge" | awk '{ printf "disclosure report / merge: wall %.1f %%, CPU %.1f %%\n",
  100 * $1 / $3, 100 * $2 / $4 }'
