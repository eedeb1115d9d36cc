#!/usr/bin/env bash
# shellcheck disable=SC2016  # awk programs in single quotes on purpose
# Side-by-side: kbix's merge + pseudonymise + scan against DuckDB, Polars and pandas doing the same
# join (read both files as text, keep the first row of a repeated INSZ, inner join on insz, drop
# insz, write ';' CSV), on one generated workload, runs alternating, median of RUNS (default 5).
#   bench/domain/compare.sh BUILD_DIR WORK_DIR [PEOPLE]        (default 1,000,000)
# Needs BUILD_DIR with kbix-gen and domain_bench, node (Debian's nodejs) and python3-pandas. The
# peers (bench/peers/package.json, exact versions, package-lock.json with integrity hashes) are
# installed with `npm ci` into WORK_DIR/peers: benchmark-only, never needed to build or test kbix.
# Prints a Markdown table: median wall, median CPU (user+sys), median peak RSS, ratio to kbix;
# then checks that all four outputs hold the same rows (sorted, header apart) and the same header.
set -euo pipefail
build=$(realpath "$1") work=$2 people=${3:-1000000} runs=${RUNS:-5}
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work/peers"
work=$(realpath "$work")
command -v node >/dev/null || { echo "compare.sh: needs node (apt-get install nodejs npm)" >&2; exit 2; }
dpkg-query -W -f='${Status}' python3-pandas 2>/dev/null | grep -q 'ok installed' ||
  { [ "$(id -u)" -eq 0 ] || sudo=sudo; ${sudo:-} apt-get install -y -qq python3-pandas >/dev/null; }
cp "$repo"/bench/peers/package.json "$repo"/bench/peers/package-lock.json "$repo"/bench/peers/*.mjs \
  "$work/peers/"
if ! cmp -s "$repo/bench/peers/package-lock.json" "$work/peers/.installed-lock" 2>/dev/null; then
  (cd "$work/peers" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$repo/bench/peers/package-lock.json" "$work/peers/.installed-lock"
fi
if [ ! -s "$work/extract-$people.csv" ]; then
  "$build/tools/gen/kbix-gen" --people "$people" --seed 7 --invalid-rate 0.01 \
    --duplicate-rate 0.005 --extract "$work/extract-$people.csv" --return "$work/return-$people.csv"
fi
extract=$work/extract-$people.csv returned=$work/return-$people.csv
declare -A command=(
  [kbix]="$build/bench/domain/domain_bench merge $returned $extract $work/out-kbix.csv"
  [duckdb]="node $work/peers/duckdb_merge.mjs $returned $extract $work/out-duckdb.csv"
  [polars]="node $work/peers/polars_merge.mjs $returned $extract $work/out-polars.csv"
  [pandas]="/usr/bin/python3 $repo/bench/domain/pandas_merge.py $returned $extract $work/out-pandas.csv"
)
tools=(kbix duckdb polars pandas)
: >"$work/samples.txt"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((run = 1; run <= runs; run++)); do
  for tool in "${tools[@]}"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "$tool %e %U %S %M" -a -o "$work/samples.txt" ${command[$tool]} >/dev/null 2>&1 ||
      { echo "compare.sh: $tool failed" >&2; exit 1; }
  done
done
median() {  # TOOL FIELD-EXPRESSION
  awk -v t="$1" "\$1 == t { print $2 }" "$work/samples.txt" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
kbix_wall=$(median kbix '$2') kbix_cpu=$(median kbix '$3 + $4')
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $load_before before and" \
  "$(cut -d' ' -f1-3 /proc/loadavg) after (1, 5, 15 min)"
echo
echo "| $people people, median of $runs | wall | CPU (user+sys) | peak RSS | wall / kbix | CPU / kbix |"
echo "|---|---|---|---|---|---|"
for tool in "${tools[@]}"; do
  wall=$(median "$tool" '$2') cpu=$(median "$tool" '$3 + $4') rss=$(median "$tool" '$5')
  awk -v t="$tool" -v w="$wall" -v c="$cpu" -v r="$rss" -v k="$kbix_wall" -v kc="$kbix_cpu" \
    'BEGIN { printf "| %s | %.2f s | %.2f s | %.0f MB | %.2f× | %.2f× |\n", t, w, c, r / 1024, w / k, c / kc }'
done
echo
same=yes
reference=$(tail -n +2 "$work/out-kbix.csv" | LC_ALL=C sort | md5sum)
for tool in "${tools[@]}"; do
  rows=$(($(wc -l <"$work/out-$tool.csv") - 1))
  sorted=$(tail -n +2 "$work/out-$tool.csv" | LC_ALL=C sort | md5sum)
  header=$(head -1 "$work/out-$tool.csv")
  [ "$sorted" = "$reference" ] && [ "$header" = "$(head -1 "$work/out-kbix.csv")" ] || same=no
  echo "$tool: $rows rows"
done
echo "same header and same set of rows in all four outputs: $same"
[ "$same" = yes ]
