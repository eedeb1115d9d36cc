#!/usr/bin/env bash
# Domain benchmark: kbix export and merge+pseudonymise+scan vs pandas on the generator's workload.
#   bench/domain/run.sh BUILD_DIR WORK_DIR [PEOPLE]     (default 1,000,000)
# Needs a built BUILD_DIR (targets kbix-gen, domain_bench) and python3-pandas (installed here from
# Debian if missing: a benchmark-only dependency). Prints a Markdown table.
set -euo pipefail
build=$1 work=$2 people=${3:-1000000}
cd "$(dirname "$0")/../.."
dpkg-query -W -f='${Status}' python3-pandas 2>/dev/null | grep -q 'ok installed' ||
  { [ "$(id -u)" -eq 0 ] || sudo=sudo; ${sudo:-} apt-get install -y -qq python3-pandas >/dev/null; }
mkdir -p "$work"
"$build/tools/gen/kbix-gen" --people "$people" --seed 7 --invalid-rate 0.01 --duplicate-rate 0.005 \
  --extract "$work/extract.csv" --return "$work/return.csv"
measure() {  # NAME COMMAND...: wall seconds and peak RSS (MB)
  local name=$1; shift
  /usr/bin/time -v -o "$work/time.txt" "$@" 2>/dev/null >/dev/null
  local wall rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt" |
    awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
  awk -v n="$name" -v w="$wall" -v r="$rss" -v p="$people" \
    'BEGIN { printf "| %s | %.2f s | %.0f rows/s | %.0f MB |\n", n, w, p / w, r / 1024 }'
}
echo "| step ($people people) | wall | rows/s | peak RSS |"
echo "|---|---|---|---|"
measure "kbix export (extract -> outbound)" "$build/bench/domain/domain_bench" export "$work/extract.csv" "$work/outbound.csv"
measure "kbix merge + pseudonymise + scan" "$build/bench/domain/domain_bench" merge "$work/return.csv" "$work/extract.csv" "$work/output.csv"
measure "pandas read + merge + drop insz + write" /usr/bin/python3 bench/domain/pandas_merge.py "$work/return.csv" "$work/extract.csv" "$work/pandas.csv"
echo
echo "rows: kbix $(($(wc -l < "$work/output.csv") - 1)), pandas $(($(wc -l < "$work/pandas.csv") - 1))"
