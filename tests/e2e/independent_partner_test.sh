#!/bin/sh
# End-to-end round trip against an independent partner (tests/e2e/openssl_partner.sh: stock
# openssl cms and OpenSSH sftp -b only, no kbix code on VDAB's side), through a real OpenSSH sshd
# on 127.0.0.1. Keys are made here with openssl: VDAB's certificates are issued by VDAB's own CA,
# AgII's encryption certificate is EC (P-256, ECDH), AgII's signing certificate RSA 3072.
#
#   independent_partner_test.sh KBIX KBIX_GEN SOURCE_DIR
# Passes when the run ends done, the output has article 3's 25 columns and one row per person
# VDAB answered, no INSZ of the extract is anywhere in the output, logs or state, both files are
# gone from the server, and the audit log passes `kbix audit verify` and the independent verifier.
set -eu

kbix=$1
gen=$2
src=$3
dir=$(mktemp -d /tmp/kbix-openssl-partner.XXXXXX)
sshd_pid=
cleanup() {
  [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null || true
  [ -n "${KBIX_KEEP_TEST_DIRS:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }
umask 077
mkdir -p "$dir/keys" "$dir/root/naar-vdab" "$dir/root/van-vdab" "$dir/state" "$dir/output" \
  "$dir/inbox" "$dir/partner"
k=$dir/keys

# --- keys and certificates -------------------------------------------------------------------
leaf() {  # leaf NAME ALGORITHM-OPTIONS KEYUSAGE ISSUER ("self" or a CA name)
  openssl genpkey $2 -out "$k/$1.key" 2>/dev/null
  if [ "$4" = self ]; then
    openssl req -new -x509 -sha256 -days 30 -key "$k/$1.key" -out "$k/$1.crt" \
      -subj "/O=EXAMPLE ONLY/CN=$1" -addext "keyUsage=critical,$3" \
      -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
  else
    openssl req -new -key "$k/$1.key" -subj "/O=VDAB EXAMPLE ONLY/CN=$1" -out "$k/$1.csr"
    printf 'keyUsage=critical,%s\nbasicConstraints=critical,CA:FALSE\n' "$3" > "$k/$1.ext"
    openssl x509 -req -sha256 -days 30 -in "$k/$1.csr" -CA "$k/$4.crt" -CAkey "$k/$4.key" \
      -CAcreateserial -extfile "$k/$1.ext" -out "$k/$1.crt" 2>/dev/null
  fi
}
rsa="-algorithm RSA -pkeyopt rsa_keygen_bits:3072"
ec="-algorithm EC -pkeyopt ec_paramgen_curve:P-256"
openssl genpkey $rsa -out "$k/vdab-ca.key" 2>/dev/null
openssl req -new -x509 -sha256 -days 30 -key "$k/vdab-ca.key" -out "$k/vdab-ca.crt" \
  -subj "/O=VDAB EXAMPLE ONLY/CN=VDAB test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
leaf vdab-sign "$rsa" digitalSignature vdab-ca
leaf vdab-enc "$rsa" keyEncipherment vdab-ca
leaf agii-sign "$rsa" digitalSignature,nonRepudiation self
leaf agii-enc "$ec" keyAgreement self
chmod 0644 "$k"/*.crt

# --- sshd on a free loopback port: both parties log in with their own key --------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$k/host"
ssh-keygen -q -t ed25519 -N '' -f "$k/agii-ssh"
ssh-keygen -q -t ed25519 -N '' -f "$k/vdab-ssh"
cat "$k/agii-ssh.pub" "$k/vdab-ssh.pub" > "$k/authorized_keys"
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$k/host.pub")" > "$k/known_hosts"
user=$(id -un)
cat > "$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1:$port
HostKey $k/host
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $k/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
AllowUsers $user
Subsystem sftp internal-sftp -d $dir/root
EOF
install -d -m 0755 /run/sshd 2>/dev/null || true
/usr/sbin/sshd -t -f "$dir/sshd_config"
/usr/sbin/sshd -D -e -f "$dir/sshd_config" > "$dir/sshd.log" 2>&1 &
sshd_pid=$!
for _ in $(seq 100); do grep -q "Server listening" "$dir/sshd.log" && break; sleep 0.1; done
grep -q "Server listening" "$dir/sshd.log" || fail "sshd did not start: $(cat "$dir/sshd.log")"

# --- kbix ------------------------------------------------------------------------------------
cat > "$dir/kbix.toml" <<EOF
[daemon]
state_dir = "$dir/state"
output_dir = "$dir/output"
inbox_dir = "$dir/inbox"
control_socket = "$dir/control.sock"
control_group = ""
log_level = "info"

[protocol]
file = "$src/config/protocols/vdab-derde-pijler-2023.toml"

[schedule]
run_dates = ["03-15", "09-15"]
return_deadline_days = 30

[keys]
signing_certificate = "$k/agii-sign.crt"
signing_key = "$k/agii-sign.key"
decryption_certificate = "$k/agii-enc.crt"
decryption_key = "$k/agii-enc.key"
expiry_warning_days = 7

[partner]
name = "VDAB"
encryption_certificate = "$k/vdab-enc.crt"
signing_certificate = "$k/vdab-sign.crt"
envelope_profile = "gcm"

[sftp]
host = "127.0.0.1"
port = $port
user = "$user"
identity_file = "$k/agii-ssh"
known_hosts_file = "$k/known_hosts"
outbound_dir = "naar-vdab"
return_dir = "van-vdab"
connect_timeout_seconds = 10
operation_deadline_seconds = 60
keepalive_seconds = 30
poll_interval_seconds = 1
min_file_age_seconds = 1

[audit]
checkpoint_every = 20
EOF
"$gen" --people 200 --seed 7 --invalid-rate 0.02 --extract "$dir/inbox/kbi-extract.csv" > /dev/null
# the extract's INSZ, read here (digits of the first column): what must never come out
tail -n +2 "$dir/inbox/kbi-extract.csv" | cut -d';' -f1 | tr -cd '0-9\n' | grep -E '^[0-9]{11}$' \
  > "$dir/insz.list"
[ -s "$dir/insz.list" ] || fail "no INSZ in the extract"

"$kbix" --config "$dir/kbix.toml" run once --start > "$dir/cli.log" 2>&1 \
  || fail "run once --start: $(cat "$dir/cli.log")"
grep -q awaiting_return "$dir/cli.log" || fail "not awaiting the return: $(cat "$dir/cli.log")"

# --- the independent partner -----------------------------------------------------------------
SFTP_HOST=127.0.0.1 SFTP_PORT=$port SFTP_USER=$user SFTP_IDENTITY=$k/vdab-ssh \
SFTP_KNOWN_HOSTS=$k/known_hosts VDAB_ENC_CRT=$k/vdab-enc.crt VDAB_ENC_KEY=$k/vdab-enc.key \
VDAB_SIGN_CRT=$k/vdab-sign.crt VDAB_SIGN_KEY=$k/vdab-sign.key AGII_SIGN_CRT=$k/agii-sign.crt \
AGII_ENC_CRT=$k/agii-enc.crt MIN_AGE_SECONDS=2 \
  sh "$src/tests/e2e/openssl_partner.sh" "$dir/partner" > "$dir/partner.log" 2>&1 \
  || fail "the partner failed: $(cat "$dir/partner.log")"
grep -q "answered" "$dir/partner.log" || fail "the partner answered nothing: $(cat "$dir/partner.log")"

"$kbix" --config "$dir/kbix.toml" run once --wait 60 >> "$dir/cli.log" 2>&1 \
  || fail "run once --wait: $(cat "$dir/cli.log")"
grep -q " done since" "$dir/cli.log" || fail "the run is not done: $(cat "$dir/cli.log")"

# --- checks ----------------------------------------------------------------------------------
output=$(ls "$dir"/output/*.csv)
# the output, its manifest and the six privacy reports (docs/privacy.md)
[ "$(ls "$dir/output" | wc -l)" -eq 8 ] || fail "output/ holds $(ls "$dir/output")"
header="leeftijdscategorie;geslacht;scholingsniveau;oudste_nationaliteit;datum_toeleiding_vdab;doelgroep;datum_doelgroep;datum_aanmelding;datum_inburgeringscontract;kbi_regio;besluit_plo;reden_besluit_plo;ingeschat_taalleervermogen;hoogst_behaald_niveau_nt2;trajecttype;toeleiding_diplomagelijkschakeling;resultaat_diplomagelijkschakeling;ocmw_leefloon;verblijfsstatus;eerste_inschrijving_vdab;recentste_inschrijving_vdab;categorie_werkzoekende;status_dienstverlening;type_acties;uitstroom_naar_werk"
[ "$(head -n 1 "$output")" = "$header" ] || fail "header: $(head -n 1 "$output")"
exported=$(grep -c . "$dir/insz.list" || true)
rows=$(($(wc -l < "$output") - 1))
[ "$rows" -gt $((exported / 2)) ] && [ "$rows" -lt "$exported" ] \
  || fail "$rows output rows for $exported INSZ in the extract"
grep -q ';werkzoekend;\|;werkend;' "$output" || fail "the partner's values are not in the output"
# no INSZ of the extract in any file left (except sealed envelopes that parse as CMS) or the logs
for file in $(find "$dir" -type f ! -path "$dir/keys/*" ! -name insz.list); do
  case $file in
    *.p7m) openssl cms -cmsout -inform DER -noout -in "$file" 2>/dev/null && continue ;;
  esac
  if grep -aqF -f "$dir/insz.list" "$file"; then fail "an INSZ of the extract in $file"; fi
done
[ -z "$(find "$dir/root" -type f)" ] || fail "left on the server: $(find "$dir/root" -type f)"
"$kbix" --config "$dir/kbix.toml" audit verify > "$dir/verify.log" 2>&1 \
  || fail "kbix audit verify: $(cat "$dir/verify.log")"
python3 "$src/tests/audit_verifier/verify_audit.py" --certificate "$k/agii-sign.crt" \
  "$dir/state/audit" || fail "the independent audit verifier"
echo "independent partner: round trip done, $rows rows for $exported INSZ"
