#!/bin/sh
# Installs (or upgrades in place) edgeos as a service. POSIX sh; see docs/install.md.
#
#   curl -sfL https://…/install.sh | EDGEOS_URL=https://…/edgeos-linux-amd64 sh -           # server
#   curl -sfL https://…/install.sh | EDGEOS_URL=… EDGEOS_SERVER=https://srv:6443 sh -s - join TOKEN
#   ./install.sh                       # from an unpacked release: edgeos-linux-<arch>(.sha256) beside it
#   EDGEOS_BINARY=./edgeos-linux-amd64 ./install.sh
#
# Installer variables (never written to the service's environment):
#   EDGEOS_URL          download the binary from here; its SHA-256 comes from EDGEOS_SHA256 or <URL>.sha256
#   EDGEOS_BINARY       install this local file instead (verified against EDGEOS_SHA256 or <file>.sha256)
#   EDGEOS_SHA256       the expected SHA-256 of the binary
#   EDGEOS_ROOT         install under this directory instead of / (nothing is started)
#   EDGEOS_INIT         systemd | openrc | none: override init system detection
#   EDGEOS_SKIP_START   true: install and enable, but do not (re)start the service
# Every other EDGEOS_* variable (EDGEOS_DATA_DIR, EDGEOS_HTTPS_LISTEN_PORT, …) is a setting of edgeos
# itself: it goes to the environment file the service reads, and non-secret ones to config.yaml.
set -eu

say() { printf '[edgeos-install] %s\n' "$*"; }
fatal() { printf '[edgeos-install] error: %s\n' "$*" >&2; exit 1; }

ROOT=${EDGEOS_ROOT:-}
ROOT=${ROOT%/}
BIN_DIR=$ROOT/usr/local/bin
BIN=$BIN_DIR/edgeos
CONFIG_DIR=$ROOT/etc/edgeos
CONFIG_FILE=$CONFIG_DIR/config.yaml
ENV_FILE=$CONFIG_DIR/edgeos.env
SYSTEMD_UNIT=$ROOT/etc/systemd/system/edgeos.service
OPENRC_SCRIPT=$ROOT/etc/init.d/edgeos
KILLALL=$BIN_DIR/edgeos-killall.sh
UNINSTALL=$BIN_DIR/edgeos-uninstall.sh
MIN_GLIBC=2.34

# --- arguments: nothing → server; "join TOKEN" → device ---------------------------------------
MODE=server
TOKEN=
if [ $# -gt 0 ]; then
  case $1 in
    join)
      if [ $# -ne 2 ] || [ -z "$2" ]; then fatal "usage: install.sh join <token>"; fi
      MODE=device
      TOKEN=$2
      ;;
    server) [ $# -eq 1 ] || fatal "usage: install.sh [server | join <token>]" ;;
    *) fatal "unknown argument '$1' (usage: install.sh [server | join <token>])" ;;
  esac
fi
say "mode: $MODE"

# --- platform ---------------------------------------------------------------------------------
case $(uname -m) in
  x86_64 | amd64) ARCH=amd64; ELF_MACHINE=3e00 ;;
  aarch64 | arm64) ARCH=arm64; ELF_MACHINE=b700 ;;
  *) fatal "unsupported machine $(uname -m): edgeos is built for amd64 and arm64" ;;
esac
say "architecture: $ARCH"

# The embedded better-sqlite3 addon needs glibc >= 2.34 (Debian 12, Ubuntu 22.04, RHEL 9 or newer).
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc //p')
[ -n "$glibc" ] || fatal "this system has no glibc (musl?): edgeos needs glibc >= $MIN_GLIBC"
if [ "$(printf '%s\n%s\n' "$MIN_GLIBC" "$glibc" | sort -t. -k1,1n -k2,2n | head -n1)" != "$MIN_GLIBC" ]; then
  fatal "glibc $glibc is too old: edgeos needs glibc >= $MIN_GLIBC"
fi
say "glibc: $glibc"

if [ -n "${EDGEOS_INIT:-}" ]; then
  INIT=$EDGEOS_INIT
elif [ -d /run/systemd/system ]; then
  INIT=systemd
elif [ -x /sbin/openrc-run ] || command -v openrc-run >/dev/null 2>&1; then
  INIT=openrc
else
  INIT=none
fi
case $INIT in systemd | openrc | none) ;; *) fatal "EDGEOS_INIT must be systemd, openrc or none (got '$INIT')" ;; esac
say "init system: $INIT"

if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
  fatal "run as root (or set EDGEOS_ROOT to install into a directory)"
fi

# --- the binary -------------------------------------------------------------------------------
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

download() { # url dest
  if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
  else fatal "neither curl nor wget is installed"
  fi
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/edgeos-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# Piped into sh, $0 is "sh" and there is no bundle beside it.
script_dir=
if [ -f "$0" ]; then script_dir=$(cd "$(dirname "$0")" && pwd); fi
expected=${EDGEOS_SHA256:-}
if [ -n "${EDGEOS_URL:-}" ]; then
  say "downloading $EDGEOS_URL"
  download "$EDGEOS_URL" "$TMP/edgeos" || fatal "download of $EDGEOS_URL failed"
  if [ -z "$expected" ]; then
    say "downloading $EDGEOS_URL.sha256"
    download "$EDGEOS_URL.sha256" "$TMP/edgeos.sha256" || fatal "no checksum at $EDGEOS_URL.sha256 (or set EDGEOS_SHA256)"
    expected=$(cut -d' ' -f1 "$TMP/edgeos.sha256")
  fi
  SOURCE=$TMP/edgeos
elif [ -n "${EDGEOS_BINARY:-}" ]; then
  [ -f "$EDGEOS_BINARY" ] || fatal "EDGEOS_BINARY=$EDGEOS_BINARY is not a file"
  SOURCE=$EDGEOS_BINARY
  if [ -z "$expected" ] && [ -f "$EDGEOS_BINARY.sha256" ]; then expected=$(cut -d' ' -f1 "$EDGEOS_BINARY.sha256"); fi
  say "using local binary $SOURCE"
elif [ -n "$script_dir" ] && [ -f "$script_dir/edgeos-linux-$ARCH" ]; then
  SOURCE=$script_dir/edgeos-linux-$ARCH
  [ -n "$expected" ] || [ -f "$SOURCE.sha256" ] || fatal "$SOURCE.sha256 is missing from the bundle"
  [ -n "$expected" ] || expected=$(cut -d' ' -f1 "$SOURCE.sha256")
  say "using bundled binary $SOURCE"
else
  fatal "no binary: set EDGEOS_URL or EDGEOS_BINARY, or run install.sh from an unpacked release (edgeos-linux-$ARCH beside it)"
fi

actual=$(sha256_of "$SOURCE")
if [ -n "$expected" ]; then
  [ "$actual" = "$expected" ] || fatal "SHA-256 mismatch for $SOURCE: expected $expected, got $actual"
  say "SHA-256 verified: $actual"
else
  say "warning: no checksum to verify $SOURCE against (set EDGEOS_SHA256); its SHA-256 is $actual"
fi

# Bytes 18-19 of an ELF header are e_machine: refuse a binary for another architecture.
machine=$(od -An -tx1 -j18 -N2 "$SOURCE" | tr -d ' \n')
[ "$machine" = "$ELF_MACHINE" ] || fatal "$SOURCE is not a linux/$ARCH executable (ELF machine $machine)"

mkdir -p "$BIN_DIR"
if [ -f "$BIN" ] && [ "$(sha256_of "$BIN")" = "$actual" ]; then
  say "$BIN is already this build: keeping it"
  UPGRADED=false
else
  if [ -f "$BIN" ]; then say "upgrading $BIN in place"; else say "installing $BIN"; fi
  # Copy beside it, then rename over it: a running edgeos keeps its old inode, no "text file busy".
  cp "$SOURCE" "$BIN.new.$$"
  chmod 0755 "$BIN.new.$$"
  mv -f "$BIN.new.$$" "$BIN"
  UPGRADED=true
fi
say "installed: $("$BIN" --version 2>/dev/null || echo "$BIN (cannot run it here)")"

# --- configuration ----------------------------------------------------------------------------
installer_only() {
  case $1 in EDGEOS_URL | EDGEOS_BINARY | EDGEOS_SHA256 | EDGEOS_ROOT | EDGEOS_INIT | EDGEOS_SKIP_START) return 0 ;; esac
  return 1
}
secret() {
  case $1 in *TOKEN* | *PASSWORD* | *SECRET* | *KEY*) return 0 ;; esac
  return 1
}

umask 077
mkdir -p "$CONFIG_DIR"
settings=$TMP/settings
env | sed -n 's/^\(EDGEOS_[A-Z0-9_]*\)=.*/\1/p' | sort -u > "$settings"
[ "$MODE" = device ] && ! grep -qx EDGEOS_TOKEN "$settings" && echo EDGEOS_TOKEN >> "$settings"

say "writing $ENV_FILE (mode 0600)"
{
  echo "# Written by install.sh from EDGEOS_* variables; edgeos reads them as its flags' defaults."
  while read -r name; do
    installer_only "$name" && continue
    if [ "$name" = EDGEOS_TOKEN ] && [ -n "$TOKEN" ]; then value=$TOKEN; else value=$(printenv "$name"); fi
    case $value in *"'"* | *'
'*) fatal "$name: values with single quotes or newlines are not supported" ;; esac
    # Single quotes: read the same by systemd's EnvironmentFile= and by sh's "."
    printf "%s='%s'\n" "$name" "$value"
  done < "$settings"
} > "$ENV_FILE.new"
chmod 0600 "$ENV_FILE.new"
mv -f "$ENV_FILE.new" "$ENV_FILE"

say "writing $CONFIG_FILE"
{
  echo "# Written by install.sh: the non-secret settings, keyed by flag name (secrets stay in edgeos.env)."
  echo "mode: $MODE"
  while read -r name; do
    installer_only "$name" && continue
    secret "$name" && continue
    key=$(echo "${name#EDGEOS_}" | tr 'A-Z_' 'a-z-')
    value=$(printenv "$name" | sed 's/\\/\\\\/g; s/"/\\"/g')
    printf '%s: "%s"\n' "$key" "$value"
  done < "$settings"
} > "$CONFIG_FILE.new"
chmod 0644 "$CONFIG_FILE.new"
mv -f "$CONFIG_FILE.new" "$CONFIG_FILE"
umask 022

if [ "$MODE" = server ]; then COMMAND=server; else COMMAND=agent; fi

# --- helper scripts ---------------------------------------------------------------------------
# The helper scripts start with the paths of this install, then a fixed body.
script_header() {
  printf '#!/bin/sh\n# Written by install.sh (%s).\n# shellcheck disable=SC2034 # the same header serves both scripts\n' "$1"
  printf "ROOT='%s'\nINIT='%s'\nBIN='%s'\nENV_FILE='%s'\nCONFIG_DIR='%s'\n" "$ROOT" "$INIT" "$BIN" "$ENV_FILE" "$CONFIG_DIR"
  printf "KILLALL='%s'\nSYSTEMD_UNIT='%s'\nOPENRC_SCRIPT='%s'\n" "$KILLALL" "$SYSTEMD_UNIT" "$OPENRC_SCRIPT"
}
case $ROOT in *"'"*) fatal "EDGEOS_ROOT must not contain a single quote" ;; esac

say "installing $KILLALL"
{
  script_header "stops edgeos and everything it started; data and configuration stay"
  cat <<'EOF'
set -u
if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then echo "run as root" >&2; exit 1; fi
if [ -z "$ROOT" ]; then
  case $INIT in
    systemd) systemctl stop edgeos.service 2>/dev/null || true ;;
    openrc) rc-service edgeos stop 2>/dev/null || true ;;
  esac
fi
# shellcheck source=/dev/null
data_dir=$ROOT$( (set -a; . "$ENV_FILE" 2>/dev/null; echo "${EDGEOS_DATA_DIR:-/var/lib/edgeos}") )
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Roots: the installed binary (also an upgraded-away copy, "… (deleted)") and containerd/runc
# processes whose command line names our data dir, so another containerd on the host is left alone.
: > "$tmp/roots"
: > "$tmp/parents"
for p in /proc/[0-9]*; do
  pid=${p#/proc/}
  ppid=$(sed -n 's/^PPid:[[:space:]]*//p' "$p/status" 2>/dev/null) || continue
  [ -n "$ppid" ] || continue
  echo "$pid $ppid" >> "$tmp/parents"
  exe=$(readlink "$p/exe" 2>/dev/null) || continue
  exe=${exe% (deleted)}
  if [ "$exe" = "$BIN" ]; then echo "$pid" >> "$tmp/roots"; continue; fi
  case ${exe##*/} in
    containerd* | runc)
      cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
      case $cmd in *"$data_dir/"*) echo "$pid" >> "$tmp/roots" ;; esac
      ;;
  esac
done
# Add descendants until nothing new turns up (pods' processes hang below the shims).
sort -u "$tmp/roots" > "$tmp/victims"
while :; do
  awk 'NR == FNR { v[$1] = 1; next } ($2 in v) && !($1 in v) { print $1 }' "$tmp/victims" "$tmp/parents" > "$tmp/more"
  [ -s "$tmp/more" ] || break
  sort -u "$tmp/victims" "$tmp/more" > "$tmp/next" && mv "$tmp/next" "$tmp/victims"
done
victims=$(grep -vx "$$" "$tmp/victims" | tr '\n' ' ')
if [ -n "$victims" ]; then
  echo "[edgeos-killall] stopping processes: $victims"
  # shellcheck disable=SC2086
  kill -TERM $victims 2>/dev/null || true
  i=0
  alive=$victims
  while [ -n "$alive" ] && [ $i -lt 10 ]; do
    sleep 1
    i=$((i + 1))
    still=
    for pid in $alive; do [ -d "/proc/$pid" ] && still="$still $pid"; done
    alive=$still
  done
  if [ -n "$alive" ]; then
    echo "[edgeos-killall] killing:$alive"
    # shellcheck disable=SC2086
    kill -KILL $alive 2>/dev/null || true
  fi
fi
# Deepest first, so nested mounts come off before their parents.
awk -v d="$data_dir/" -v r="$ROOT/run/edgeos/" 'index($2, d) == 1 || index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r |
  while read -r m; do
    echo "[edgeos-killall] unmounting $m"
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
echo "[edgeos-killall] done"
EOF
} > "$KILLALL"
chmod 0755 "$KILLALL"

say "installing $UNINSTALL"
{
  script_header "removes edgeos, its service, configuration and data"
  cat <<'EOF'
set -eu
if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then echo "run as root" >&2; exit 1; fi
# shellcheck source=/dev/null
data_dir=$ROOT$( (set -a; . "$ENV_FILE" 2>/dev/null; echo "${EDGEOS_DATA_DIR:-/var/lib/edgeos}") )
"$KILLALL"
if [ -z "$ROOT" ]; then
  case $INIT in
    systemd) systemctl disable edgeos.service 2>/dev/null || true ;;
    openrc) rc-update delete edgeos default 2>/dev/null || true ;;
  esac
fi
rm -f "$SYSTEMD_UNIT" "$OPENRC_SCRIPT"
if [ -z "$ROOT" ] && [ "$INIT" = systemd ]; then systemctl daemon-reload 2>/dev/null || true; fi
echo "[edgeos-uninstall] removing $BIN, $CONFIG_DIR, $data_dir, $ROOT/run/edgeos"
rm -rf "$BIN" "$CONFIG_DIR" "$data_dir" "$ROOT/run/edgeos"
rm -f "$KILLALL" "$0"
echo "[edgeos-uninstall] done"
EOF
} > "$UNINSTALL"
chmod 0755 "$UNINSTALL"

# --- service ----------------------------------------------------------------------------------
# Paths inside unit files are the ones the running system sees, without EDGEOS_ROOT.
case $INIT in
  systemd)
    say "writing $SYSTEMD_UNIT"
    mkdir -p "$(dirname "$SYSTEMD_UNIT")"
    cat > "$SYSTEMD_UNIT" <<EOF
[Unit]
Description=edgeos $MODE (Kubernetes-compatible edge runtime)
Documentation=https://github.com/edgeos/edgeos/blob/main/docs/install.md
Wants=network-online.target
After=network-online.target

[Service]
Type=exec
EnvironmentFile=-/etc/edgeos/edgeos.env
ExecStart=/usr/local/bin/edgeos $COMMAND
# Pods live in cgroups below this service: systemd must hand the subtree over (Delegate) and not
# kill containerd's shims when edgeos restarts (KillMode=process), so pods survive upgrades.
Delegate=yes
KillMode=process
Restart=always
RestartSec=5s
TimeoutStartSec=0
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity

[Install]
WantedBy=multi-user.target
EOF
    ;;
  openrc)
    say "writing $OPENRC_SCRIPT"
    mkdir -p "$(dirname "$OPENRC_SCRIPT")"
    cat > "$OPENRC_SCRIPT" <<EOF
#!/sbin/openrc-run
# shellcheck shell=sh disable=SC2034 # openrc-run reads these variables
description="edgeos $MODE (Kubernetes-compatible edge runtime)"
command=/usr/local/bin/edgeos
command_args="$COMMAND"
supervisor=supervise-daemon
respawn_delay=5
respawn_max=0
output_log=/var/log/edgeos.log
error_log=/var/log/edgeos.log
# Leave pods' processes alone when edgeos stops or restarts (like systemd's KillMode=process).
rc_cgroup_cleanup="no"

depend() {
  need net
  after firewall
}

start_pre() {
  set -a
  # shellcheck source=/dev/null
  . /etc/edgeos/edgeos.env
  set +a
}
EOF
    chmod 0755 "$OPENRC_SCRIPT"
    ;;
  none)
    say "no systemd or OpenRC here: start edgeos yourself: (set -a; . /etc/edgeos/edgeos.env; /usr/local/bin/edgeos $COMMAND)"
    ;;
esac

if [ -n "$ROOT" ]; then
  say "install root is $ROOT: not enabling or starting the service"
elif [ "$INIT" = systemd ]; then
  say "systemctl daemon-reload; enable edgeos.service"
  systemctl daemon-reload
  systemctl enable edgeos.service >/dev/null
  if [ "${EDGEOS_SKIP_START:-false}" = true ]; then
    say "EDGEOS_SKIP_START=true: not starting"
  else
    say "systemctl restart edgeos.service"
    systemctl restart edgeos.service
  fi
elif [ "$INIT" = openrc ]; then
  say "rc-update add edgeos default"
  rc-update add edgeos default >/dev/null
  if [ "${EDGEOS_SKIP_START:-false}" = true ]; then
    say "EDGEOS_SKIP_START=true: not starting"
  else
    say "rc-service edgeos restart"
    rc-service edgeos restart
  fi
fi
[ "$UPGRADED" = true ] || say "binary unchanged; configuration rewritten"
say "done: $MODE installed ($BIN); uninstall with $UNINSTALL"
