#!/usr/bin/env bash
# shellcheck disable=SC2016  # awk programs in single quotes on purpose
# The disclosure report's cost in the merge (issue 18: at most 10 % of the merge at 1M people):
# `domain_bench merge` without and with `--disclosure PROTOCOL` (the VDAB protocol's [disclosure]
# table, action "report", and the same with action "suppress"), on compare.sh's workload, runs
# alternating, median of RUNS (default 5).
#   bench/domain/disclosure.sh BUILD_DIR WORK_DIR [PEOPLE]        (default 1,000,000)
# Prints a Markdown table (median wall, median CPU user+sys, median peak RSS, CPU and wall added
# to the plain merge) and the load average before and after. On a shared machine the CPU time is
# the fair figure: wall time mostly measures waiting for a core.
set -euo pipefail
build=$(realpath "$1") work=$2 people=${3:-1000000} runs=${RUNS:-5}
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work"
work=$(realpath "$work")
if [ ! -s "$work/extract-$people.csv" ]; then
  "$build/tools/gen/kbix-gen" --people "$people" --seed 7 --invalid-rate 0.01 \
    --duplicate-rate 0.005 --extract "$work/extract-$people.csv" --return "$work/return-$people.csv"
fi
extract=$work/extract-$people.csv returned=$work/return-$people.csv
protocol=$repo/config/protocols/vdab-derde-pijler-2023.toml
grep -q '^\[disclosure\]' "$protocol" || { echo "disclosure.sh: $protocol has no [disclosure]" >&2; exit 2; }
# The protocol with action "suppress" (its [disclosure] table is the file's last).
sed '/^action *=/d' "$protocol" >"$work/suppress.toml"
echo 'action = "suppress"' >>"$work/suppress.toml"
bench=$build/bench/domain/domain_bench
declare -A command=(
  [merge]="$bench merge $returned $extract $work/out-merge.csv"
  [report]="$bench merge $returned $extract $work/out-report.csv --disclosure $protocol"
  [suppress]="$bench merge $returned $extract $work/out-suppress.csv --disclosure $work/suppress.toml"
)
variants=(merge report suppress)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$work/samples.txt"
for ((run = 1; run <= runs; run++)); do
  for variant in "${variants[@]}"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "$variant %e %U %S %M" -a -o "$work/samples.txt" ${command[$variant]} \
      >/dev/null 2>"$work/$variant.log" || { echo "disclosure.sh: $variant failed" >&2; exit 1; }
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() {  # VARIANT FIELD-EXPRESSION
  awk -v t="$1" "\$1 == t { print $2 }" "$work/samples.txt" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
merge_wall=$(median merge '$2') merge_cpu=$(median merge '$3 + $4')
echo
echo "| $people people, median of $runs | wall | CPU (user+sys) | peak RSS | CPU added | wall added |"
echo "|---|---|---|---|---|---|"
for variant in "${variants[@]}"; do
  wall=$(median "$variant" '$2') cpu=$(median "$variant" '$3 + $4') rss=$(median "$variant" '$5')
  awk -v t="$variant" -v w="$wall" -v c="$cpu" -v r="$rss" -v mw="$merge_wall" -v mc="$merge_cpu" \
    'BEGIN { printf "| %s | %.2f s | %.2f s | %.0f MB | %+.1f %% | %+.1f %% |\n", t, w, c, r / 1024,
             100 * (c - mc) / mc, 100 * (w - mw) / mw }'
done
echo
grep -h "smallest class\|Suppressed" "$work/report.log" "$work/suppress.log" || true
