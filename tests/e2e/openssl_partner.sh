#!/bin/sh
# An independent VDAB: answers AgII's outbound files using nothing but the stock `openssl cms`
# and OpenSSH `sftp -b`, written from docs/exchange-specification.md alone (no kbix code).
# One pass: every final outbound file in naar-vdab/ that has no answer yet is downloaded,
# decrypted, verified against the pinned AgII signing certificate, answered with a return of
# the protocol's columns for most of its people, signed, encrypted to AgII and uploaded under a
# temporary name, then renamed to its final name (specification sections 2.1, 2.2, 3 and 4).
#
#   openssl_partner.sh WORK_DIR
# Environment (all required):
#   SFTP_HOST SFTP_PORT SFTP_USER SFTP_IDENTITY SFTP_KNOWN_HOSTS
#   VDAB_ENC_CRT VDAB_ENC_KEY VDAB_SIGN_CRT VDAB_SIGN_KEY   VDAB's own keys
#   AGII_SIGN_CRT (pinned)  AGII_ENC_CRT (AgII's encryption certificate, RSA or EC)
#   MIN_AGE_SECONDS  how long a file's size must stay stable before it is taken (spec: 60)
set -eu

work=$1
mkdir -p "$work"
umask 077

sftp_batch() {  # sftp_batch BATCH_FILE: runs it with the pinned host key, key auth only
  sftp -q -b "$1" -i "$SFTP_IDENTITY" -P "$SFTP_PORT" \
    -o UserKnownHostsFile="$SFTP_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o PasswordAuthentication=no \
    "$SFTP_USER@$SFTP_HOST"
}

listing() {  # listing DIR: "size name" of each final (.p7m) file in DIR
  printf 'ls -ln %s\n' "$1" > "$work/ls.batch"
  sftp_batch "$work/ls.batch" | awk '$NF ~ /\.p7m$/ && $1 !~ /^sftp>/ {
    n = split($NF, part, "/"); print $5, part[n] }' | sort
}

# Only final names whose size stayed the same for MIN_AGE_SECONDS (section 3).
listing naar-vdab > "$work/first"
sleep "$MIN_AGE_SECONDS"
listing naar-vdab > "$work/second"
stable=$(comm -12 "$work/first" "$work/second" | awk '{ print $2 }')
answered=$(listing van-vdab | awk '{ print $2 }')

for name in $stable; do
  case $name in
    vdab-derde-pijler-2023_*.csv.p7m) ;;
    *) echo "partner: ignoring $name (not a name of section 4)" >&2; continue ;;
  esac
  run=${name#vdab-derde-pijler-2023_}
  run=${run%.csv.p7m}
  reply="vdab-derde-pijler-2023_${run}-verrijkt.csv.p7m"
  if printf '%s\n' "$answered" | grep -qxF "$reply"; then continue; fi

  printf 'get naar-vdab/%s %s/in.p7m\n' "$name" "$work" > "$work/get.batch"
  sftp_batch "$work/get.batch" > /dev/null
  # 2.1: decrypt, then verify AgII's signature against the pinned certificate
  openssl cms -decrypt -binary -inform DER -in "$work/in.p7m" \
    -recip "$VDAB_ENC_CRT" -inkey "$VDAB_ENC_KEY" -out "$work/signed.der"
  openssl cms -verify -binary -inform DER -in "$work/signed.der" \
    -CAfile "$AGII_SIGN_CRT" -purpose any -out "$work/insz.csv" 2> "$work/verify.log"
  grep -q "Verification successful" "$work/verify.log"
  rm -f "$work/signed.der" "$work/in.p7m"
  [ "$(head -n 1 "$work/insz.csv")" = insz ] || { echo "partner: not an outbound file" >&2; exit 1; }

  # The return (section 1): the protocol's columns; every fifth person is unknown to VDAB.
  {
    echo "insz;eerste_inschrijving_vdab;recentste_inschrijving_vdab;categorie_werkzoekende;status_dienstverlening;type_acties;uitstroom_naar_werk"
    tail -n +2 "$work/insz.csv" | tr -d '\r' | awk -F';' 'NR % 5 != 0 {
      printf "%s;2024-0%d-1%d;2025-0%d-0%d;%s;%s;%s;%s\n", $1, NR % 9 + 1, NR % 10, NR % 9 + 1,
        NR % 9 + 1, (NR % 2 ? "werkzoekend" : "werkend"), (NR % 3 ? "actief" : ""),
        "opleiding", (NR % 4 ? "ja" : "nee") }'
  } > "$work/return.csv"
  rm -f "$work/insz.csv"

  # 2.2: sign (signingTime is added by openssl), encrypt to AgII (RSA-OAEP or ECDH)
  openssl cms -sign -binary -nodetach -md sha256 -in "$work/return.csv" \
    -signer "$VDAB_SIGN_CRT" -inkey "$VDAB_SIGN_KEY" -outform DER -out "$work/signed.der"
  if openssl x509 -in "$AGII_ENC_CRT" -noout -text | grep -q "id-ecPublicKey"; then
    openssl cms -encrypt -binary -aes-256-gcm -in "$work/signed.der" \
      -recip "$AGII_ENC_CRT" -keyopt ecdh_kdf_md:sha256 -wrap id-aes256-wrap \
      -outform DER -out "$work/$reply"
  else
    openssl cms -encrypt -binary -aes-256-gcm -in "$work/signed.der" \
      -recip "$AGII_ENC_CRT" -keyopt rsa_padding_mode:oaep \
      -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256 \
      -outform DER -out "$work/$reply"
  fi
  rm -f "$work/signed.der" "$work/return.csv"

  # 3: upload under a temporary name that does not end in .p7m, then rename
  printf 'put %s van-vdab/%s.part\nrename van-vdab/%s.part van-vdab/%s\n' \
    "$work/$reply" "$reply" "$reply" "$reply" > "$work/put.batch"
  sftp_batch "$work/put.batch" > /dev/null
  rm -f "$work/$reply"
  echo "partner: answered $name with $reply"
done
