#!/bin/sh
# The envelope benchmark: kbix seal/open against the stock openssl CLI on one synthetic file,
# wall time and peak RSS from GNU time (/usr/bin/time -v), plus `openssl speed` as the raw limit.
#
#   bench/envelope/run-benchmark.sh BUILD_DIR WORK_DIR [SIZE_MB] [rsa|ec] [REPEAT]
#
# Each step runs REPEAT times (default 3); the table gives the median wall time, every run's wall
# time, and the highest peak RSS.
# BUILD_DIR must hold envelope_cli (cmake --build BUILD_DIR --target envelope_cli).
# WORK_DIR needs about 5x SIZE_MB of free space; it is emptied first. Prints a Markdown table.
set -eu
build=$1
work=$2
size_mb=${3:-500}
type=${4:-rsa}
repeat=${5:-3}
here=$(cd "$(dirname "$0")" && pwd)
cli="$build/bench/envelope/envelope_cli"
[ -x "$cli" ] || { echo "missing $cli" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }

rm -rf "$work"
mkdir -p "$work"
keys="$work/keys"
"$here/../../keys-example/make-keys" "$keys" >/dev/null

# Synthetic CSV: numbers that are NOT valid INSZ, 12 bytes a line.
python3 - "$work/plain.csv" "$size_mb" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2]) * 1024 * 1024
line_count = size // 12
block = "".join("99%07d00\n" % (i % 10000000) for i in range(100000)).encode()  # 12 bytes/line
with open(path, "wb") as out:
    out.write(b"insz\n")
    written = 5
    while written + len(block) <= size:
        out.write(block)
        written += len(block)
    out.write(block[: size - written])
PY

recip_opts() {
  if [ "$type" = rsa ]; then
    echo "-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256"
  else
    echo "-keyopt ecdh_kdf_md:sha256"
  fi
}

# measure LABEL COMMAND: prints "| LABEL | median wall s | all runs | peak RSS MB |"
measure() {
  label=$1
  shift
  walls=""
  peak=0
  i=0
  while [ "$i" -lt "$repeat" ]; do
    sync
    /usr/bin/time -v -o "$work/time.txt" sh -c "$*" >/dev/null
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt" |
      awk -F: '{ print ($1 * 60) + $2 }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
    walls="$walls $wall"
    [ "$rss" -gt "$peak" ] && peak=$rss
    i=$((i + 1))
  done
  median=$(echo "$walls" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 }
    END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  printf '| %s | %s | %s | %s |\n' "$label" "$median" "$(echo $walls | tr ' ' '/')" "$((peak / 1024))"
}

S="-signer $keys/agii-sign-$type.crt -inkey $keys/agii-sign-$type.key"
echo "| step ($size_mb MiB, $type, gcm, $repeat runs) | median wall (s) | all runs (s) | peak RSS (MB) |"
echo "|---|---|---|---|"
measure "kbix seal" "$cli seal $keys $type gcm $work/plain.csv $work/kbix.p7m"
measure "openssl cms -sign -stream \| -encrypt -stream" \
  "openssl cms -sign -binary -nodetach -stream -md sha256 -in $work/plain.csv $S -outform DER \
   | openssl cms -encrypt -binary -stream -aes-256-gcm -recip $keys/vdab-enc-$type.crt \
     $(recip_opts) -recip $keys/agii-enc-$type.crt $(recip_opts) -outform DER -out $work/cli.p7m"
measure "kbix open" "$cli open $keys $type $work/kbix.p7m $work/kbix.out"
measure "openssl cms -decrypt \| -verify" \
  "openssl cms -decrypt -binary -inform DER -in $work/cli.p7m -recip $keys/vdab-enc-$type.crt \
     -inkey $keys/vdab-enc-$type.key \
   | openssl cms -verify -binary -inform DER -CAfile $keys/agii-sign-$type.crt -purpose any \
     -out $work/cli.out 2>/dev/null"
cmp "$work/plain.csv" "$work/kbix.out"
cmp "$work/plain.csv" "$work/cli.out"
echo
echo "Both outputs equal the input. Raw AES-256-GCM (openssl speed -evp aes-256-gcm, 16 KiB blocks):"
openssl speed -evp aes-256-gcm -seconds 3 -bytes 16384 2>/dev/null | tail -1
echo "SHA-256 (openssl speed -evp sha256, 16 KiB blocks):"
openssl speed -evp sha256 -seconds 3 -bytes 16384 2>/dev/null | tail -1
