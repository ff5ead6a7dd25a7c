#!/bin/sh
# Installs (or upgrades in place) edgeos as a service. POSIX sh; see docs/install.md.
#
#   curl -sfL https://…/install.sh | EDGEOS_URL=https://…/edgeos-linux-amd64 sh -           # server
#   curl -sfL https://…/install.sh | EDGEOS_URL=… sh -s - join TOKEN   # the token names the server
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
#   EDGEOS_MANIFESTS    a directory whose .yaml/.yml/.json files go to <data-dir>/server/manifests
#                       (a server applies them at start; an air-gapped bundle's manifests/ go there too)
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

# Node links libstdc++ and libgcc_s besides glibc. A system without them (a root made without apt,
# an embedded image) would install fine and then fail at every start with a loader error in the
# service log: name what is missing now, before anything is written. Only for this system (not
# EDGEOS_ROOT, whose libraries are not these), and only where glibc's ldd can tell.
if [ -z "$ROOT" ] && command -v ldd >/dev/null 2>&1; then
  unresolved=$(ldd "$SOURCE" 2>&1 | sed -n -e 's/^[[:space:]]*\([^ ]*\) => not found$/\1/p' \
    -e "s/.*version \`\\([^']*\\)' not found.*/\\1/p" | sort -u | tr '\n' ' ')
  [ -z "$unresolved" ] || fatal "edgeos cannot run on this system, its loader finds no ${unresolved% }: it needs glibc >= $MIN_GLIBC, libstdc++6 and libgcc-s1 (GCC 11 or newer; Debian/Ubuntu: apt-get install libstdc++6)"
fi

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
  case $1 in EDGEOS_URL | EDGEOS_BINARY | EDGEOS_SHA256 | EDGEOS_ROOT | EDGEOS_INIT | EDGEOS_SKIP_START | EDGEOS_MANIFESTS) return 0 ;; esac
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

if [ "$MODE" = server ]; then COMMAND=server; else COMMAND=agent; fi
# edgeos refuses a config.yaml key that is no flag and ignores one of another command: check every
# setting against the flags of the command the service runs (when the binary runs here), before
# anything is written.
flags=$("$BIN" "$COMMAND" --help 2>/dev/null || true)
case $flags in *--data-dir*) say "checking the settings against \`edgeos $COMMAND --help\`" ;; *) flags= ;; esac
while read -r name; do
  installer_only "$name" && continue
  key=$(echo "${name#EDGEOS_}" | tr 'A-Z_' 'a-z-')
  case $flags in
    "" | *"--$key "*) ;;
    *) fatal "$name is not a setting of \`edgeos $COMMAND\` (it has no --$key flag; see \`edgeos $COMMAND --help\`): unset it" ;;
  esac
done < "$settings"

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
    # edgeos types the file's values (docs/install.md): true/false are booleans (--disable-agent),
    # everything else a quoted string.
    case $value in
      true | false) printf '%s: %s\n' "$key" "$value" ;;
      *) printf '%s: "%s"\n' "$key" "$value" ;;
    esac
  done < "$settings"
} > "$CONFIG_FILE.new"
chmod 0644 "$CONFIG_FILE.new"
mv -f "$CONFIG_FILE.new" "$CONFIG_FILE"
umask 022

# --- container runtime and images (air-gapped bundle) -------------------------------------------
# edgeos runs a private containerd found in PATH (with containerd-shim-runc-v2, ctr and runc) and
# the CNI plugins in /usr/lib/cni (docs/runtime.md). From an air-gapped bundle (`edgeos bundle
# create`: bundle.json beside this script) they come from the bundle and nothing touches the
# network; otherwise a missing runtime is installed with the distribution's package manager.
CNI_DIR=/usr/lib/cni
RUNTIME_FILES=$CONFIG_DIR/runtime-files # what the bundle installed, for edgeos-uninstall.sh
BUNDLE_DIR=
if [ -n "$script_dir" ] && [ -f "$script_dir/bundle.json" ]; then BUNDLE_DIR=$script_dir; fi

needs_runtime() {
  [ -z "${EDGEOS_CONTAINER_RUNTIME_ENDPOINT:-}" ] || return 1
  if [ "$MODE" = server ]; then [ "${EDGEOS_DISABLE_AGENT:-false}" != true ]; else [ "${EDGEOS_DISABLE_RUNTIME:-false}" != true ]; fi
}
# Where the install root's standard PATH (the service's, not ours) finds a command.
host_command() {
  for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
    if [ -x "$ROOT$d/$1" ]; then echo "$d/$1"; return 0; fi
  done
  return 1
}
recorded() { [ -f "$RUNTIME_FILES" ] && grep -qx "$1" "$RUNTIME_FILES"; }
DATA_DIR=$ROOT${EDGEOS_DATA_DIR:-/var/lib/edgeos}
# A file into a directory edgeos watches, unless an identical copy is there. The temporary name
# starts with a dot and does not end in .tar/.yaml, so edgeos never reads a partial copy.
copy_into() { # source-file target-dir what why
  if [ -f "$2/${1##*/}" ] && [ "$(sha256_of "$2/${1##*/}")" = "$(sha256_of "$1")" ]; then
    say "$3 ${1##*/} is already in $2"
    return 0
  fi
  say "copying $3 ${1##*/} to $2 ($4)"
  mkdir -p "$2"
  cp "$1" "$2/.${1##*/}.part.$$"
  mv -f "$2/.${1##*/}.part.$$" "$2/${1##*/}"
}
record() { recorded "$1" || echo "$1" >> "$RUNTIME_FILES"; }
# A directory (a path without EDGEOS_ROOT), each level it had to create recorded for the uninstaller.
make_dir() { # dir
  if [ -d "$ROOT$1" ]; then return 0; fi
  make_dir "${1%/*}"
  mkdir "$ROOT$1"
  record "$1/"
}
# Copy beside the target, then rename: a running containerd, shim or nft keeps its old file.
place_file() { # source target mode
  make_dir "${2%/*}"
  cp "$1" "$ROOT$2.new.$$"
  chmod "$3" "$ROOT$2.new.$$"
  mv -f "$ROOT$2.new.$$" "$ROOT$2"
  record "$2"
}

# A bundle file to its place (a path without EDGEOS_ROOT), unless the system already has its own
# copy that an earlier bundle did not put there: package-managed files are never overwritten.
install_runtime_file() { # source target
  name=${2##*/}
  if recorded "$2"; then :
  elif [ "${2%/*}" = "$CNI_DIR" ] && [ -e "$ROOT$2" ]; then say "keeping the installed CNI plugin $2"; return 0
  elif [ "${2%/*}" != "$CNI_DIR" ] && found=$(host_command "$name"); then say "keeping the installed $found"; return 0
  fi
  place_file "$1" "$2" 0755
  say "installed $2 from the bundle"
  # runc links libseccomp: the bundle's runc finds it in $TOOLS_DIR/lib (its RUNPATH).
  install_tool_libs
}

# nft and conntrack (the Service datapath, docs/services.md) are linked against libraries a host
# without them lacks too: the bundle carries those (runtime/tools/lib), installed under
# $TOOLS_DIR/lib and found only by these commands, through a wrapper in /usr/local/bin that
# sets the loader's path for them alone, and by the bundle's runc — no library of the host is
# replaced or shadowed.
TOOLS_DIR=/usr/local/lib/edgeos
# The bundle's libraries, once, when the first file that needs them is installed: the tools' and
# runc's (the bundle's runc carries a RUNPATH to $TOOLS_DIR/lib, since runc re-executes itself
# with an environment of its own; no wrapper's LD_LIBRARY_PATH would reach that second run).
tool_libs_installed=
install_tool_libs() {
  if [ -n "$tool_libs_installed" ]; then return 0; fi
  tool_libs_installed=1
  for lib in "$BUNDLE_DIR"/runtime/tools/lib/*; do
    if [ -f "$lib" ]; then place_file "$lib" "$TOOLS_DIR/lib/${lib##*/}" 0644; fi
  done
}
install_tool() { # bundle executable
  name=${1##*/}
  if ! recorded "/usr/local/bin/$name" && found=$(host_command "$name"); then say "keeping the installed $found"; return 0; fi
  install_tool_libs
  place_file "$1" "$TOOLS_DIR/bin/$name" 0755
  printf '#!/bin/sh\n# %s from the edgeos air-gapped bundle, with the libraries it needs (edgeos-uninstall.sh removes it)\nLD_LIBRARY_PATH=%s/lib\nexport LD_LIBRARY_PATH\nexec %s/bin/%s "$@"\n' \
    "$name" "$TOOLS_DIR" "$TOOLS_DIR" "$name" > "$TMP/$name"
  place_file "$TMP/$name" "/usr/local/bin/$name" 0755
  say "installed /usr/local/bin/$name from the bundle (libraries in $TOOLS_DIR/lib)"
}

if [ -n "$BUNDLE_DIR" ]; then
  say "air-gapped bundle: $BUNDLE_DIR (no network is used)"
  [ -f "$BUNDLE_DIR/SHA256SUMS" ] || fatal "$BUNDLE_DIR/SHA256SUMS is missing: the bundle is incomplete"
  if command -v sha256sum >/dev/null 2>&1; then
    (cd "$BUNDLE_DIR" && sha256sum -c SHA256SUMS) > "$TMP/sums" 2>&1 || fatal "the bundle is damaged: $(grep -v ': OK$' "$TMP/sums" | tr '\n' ' ')"
  else
    (cd "$BUNDLE_DIR" && shasum -a 256 -c SHA256SUMS) > "$TMP/sums" 2>&1 || fatal "the bundle is damaged: $(grep -v ': OK$' "$TMP/sums" | tr '\n' ' ')"
  fi
  say "bundle verified against SHA256SUMS"
  for f in "$BUNDLE_DIR"/runtime/bin/*; do
    if [ -f "$f" ]; then install_runtime_file "$f" "/usr/local/bin/${f##*/}"; fi
  done
  for f in "$BUNDLE_DIR"/runtime/cni/*; do
    if [ -f "$f" ]; then install_runtime_file "$f" "$CNI_DIR/${f##*/}"; fi
  done
  for f in "$BUNDLE_DIR"/runtime/tools/bin/*; do
    if [ -f "$f" ]; then install_tool "$f"; fi
  done
  # The agent imports every archive in <data-dir>/agent/images when it starts (docs/runtime.md).
  for f in "$BUNDLE_DIR"/images/*; do
    if [ -f "$f" ]; then copy_into "$f" "$DATA_DIR/agent/images" image "imported when edgeos starts"; fi
  done
elif [ -n "$ROOT" ]; then
  say "install root is $ROOT: leaving the container runtime to the system"
elif needs_runtime; then
  missing=
  for c in containerd containerd-shim-runc-v2 ctr runc; do host_command "$c" >/dev/null || missing="$missing $c"; done
  for p in bridge host-local portmap loopback; do [ -x "$CNI_DIR/$p" ] || missing="$missing $CNI_DIR/$p"; done
  # Services and cluster DNS: nft programs the datapath, conntrack flushes stale UDP flows (docs/services.md).
  for c in nft conntrack; do host_command "$c" >/dev/null || missing="$missing $c"; done
  # The pod relay (docs/podnet.md) turns the VXLAN device's checksum offload off with ethtool.
  host_command ethtool >/dev/null || missing="$missing ethtool"
  if [ -n "$missing" ]; then
    say "missing:$missing"
    offline="could not install them (no network?): install containerd, runc, the CNI plugins, nftables, conntrack and ethtool yourself, or use an air-gapped bundle (edgeos bundle create, docs/install.md)"
    if command -v apt-get >/dev/null 2>&1; then
      say "apt-get install containerd runc containernetworking-plugins nftables conntrack ethtool"
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q containerd runc containernetworking-plugins nftables conntrack ethtool; } || fatal "apt-get $offline"
    elif command -v dnf >/dev/null 2>&1; then
      say "dnf install containerd runc containernetworking-plugins nftables conntrack-tools ethtool"
      dnf install -y containerd runc containernetworking-plugins nftables conntrack-tools ethtool || fatal "dnf $offline"
    elif command -v apk >/dev/null 2>&1; then
      say "apk add containerd runc cni-plugins nftables conntrack-tools ethtool"
      apk add --no-cache containerd runc cni-plugins nftables conntrack-tools ethtool || fatal "apk $offline"
    else
      fatal "no apt-get, dnf or apk here: install containerd, runc, the CNI plugins, nftables, conntrack and ethtool yourself, or use an air-gapped bundle (edgeos bundle create, docs/install.md)"
    fi
    # Fedora/RHEL and Alpine put the plugins in /usr/libexec/cni; edgeos reads /usr/lib/cni.
    if [ ! -e "$CNI_DIR" ] && [ -x /usr/libexec/cni/bridge ]; then ln -s /usr/libexec/cni "$CNI_DIR"; fi
  else
    say "container runtime: $(host_command containerd), $(host_command runc), CNI plugins in $CNI_DIR; $(host_command nft) for Services"
  fi
fi

# --- manifests (docs/storage.md) --------------------------------------------------------------
# A server applies every manifest in <data-dir>/server/manifests at start and on change; the
# bundle's manifests/ and EDGEOS_MANIFESTS go there. A device has no such folder.
copy_manifests_from() { # dir
  for f in "$1"/*.yaml "$1"/*.yml "$1"/*.json; do
    [ -f "$f" ] || continue
    if [ "$MODE" != server ]; then say "not copying manifest ${f##*/}: only a server applies manifests"; continue; fi
    # The server keeps its folder to root (0700) as it creates it itself.
    if [ ! -d "$DATA_DIR/server/manifests" ]; then mkdir -p "$DATA_DIR/server/manifests" && chmod 0700 "$DATA_DIR/server/manifests"; fi
    copy_into "$f" "$DATA_DIR/server/manifests" manifest "applied when the server starts, and on every change"
  done
}
if [ -n "$BUNDLE_DIR" ] && [ -d "$BUNDLE_DIR/manifests" ]; then copy_manifests_from "$BUNDLE_DIR/manifests"; fi
if [ -n "${EDGEOS_MANIFESTS:-}" ]; then
  [ -d "$EDGEOS_MANIFESTS" ] || fatal "EDGEOS_MANIFESTS=$EDGEOS_MANIFESTS is not a directory"
  copy_manifests_from "$EDGEOS_MANIFESTS"
fi

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
# The pods' QoS cgroup tree (docs/kubelet.md, "QoS cgroups"), which the agent records in
# <data dir>/agent/kubelet/cgroup-root: empty once the pods' processes are gone. rmdir only, deepest
# first, in every cgroup hierarchy, and its /edgeos-<8 hex> parent when the agent chose that itself.
# Not below an EDGEOS_ROOT: the cgroups are the host's.
if [ -z "$ROOT" ] && [ -f "$data_dir/agent/kubelet/cgroup-root" ]; then
  cg=$(cat "$data_dir/agent/kubelet/cgroup-root")
  case $cg in
    */kubepods)
      parent=${cg%/kubepods}
      echo "[edgeos-killall] removing the pods' cgroups $cg"
      awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts | while read -r m; do
        if [ -d "$m$cg" ]; then find "$m$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true; fi
        case $parent in /edgeos-????????) rmdir "$m$parent" 2>/dev/null || true ;; esac
      done
      ;;
  esac
fi
# Deepest first, so nested mounts come off before their parents.
awk -v d="$data_dir/" -v r="$ROOT/run/edgeos/" 'index($2, d) == 1 || index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r |
  while read -r m; do
    echo "[edgeos-killall] unmounting $m"
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
# The agent's CNI network (docs/runtime.md): bridge eos<8 hex of sha256(data dir)>, CNI network
# edgeos-<bridge>. Its pods' network namespaces hang on the bridge by veths and outlive the killed
# processes; remove them, the bridge, the iptables rules CNI tagged with the network name and
# CNI's cache entries, so a reinstall starts clean. Not below an EDGEOS_ROOT: the network is the host's.
if [ -z "$ROOT" ] && command -v ip >/dev/null 2>&1; then
  bridge=eos$(printf %s "$data_dir" | sha256sum | cut -c1-8)
  # Pod network namespaces: those our containerd's metadata names (also sandboxes whose network
  # setup failed) and those whose veths hang on our bridge.
  { grep -ao '/var/run/netns/cni-[0-9a-f-]*' "$data_dir/agent/containerd/root/io.containerd.metadata.v1.bolt/meta.db" 2>/dev/null | sed 's|.*/||'
    ip -o link show master "$bridge" 2>/dev/null | sed -n 's/.* link-netns \([^ ]*\).*/\1/p'
  } | sort -u | while read -r ns; do
    [ -e "/run/netns/$ns" ] || continue
    echo "[edgeos-killall] deleting pod network namespace $ns"
    ip netns delete "$ns" 2>/dev/null || true
  done
  if ip link show "$bridge" >/dev/null 2>&1; then
    echo "[edgeos-killall] deleting bridge $bridge"
    ip link delete "$bridge" 2>/dev/null || true
  fi
  # The Service datapath (docs/services.md): table ip edgeos-<same 8 hex> and the interface
  # eosd<same 8 hex> holding the cluster DNS address; the agent removes both when it stops.
  suffix=${bridge#eos}
  if ip link show "eosd$suffix" >/dev/null 2>&1; then
    echo "[edgeos-killall] deleting interface eosd$suffix"
    ip link delete "eosd$suffix" 2>/dev/null || true
  fi
  if command -v nft >/dev/null 2>&1 && nft list table ip "edgeos-$suffix" >/dev/null 2>&1; then
    echo "[edgeos-killall] deleting nftables table edgeos-$suffix"
    nft delete table ip "edgeos-$suffix" 2>/dev/null || true
  fi
  if command -v iptables-save >/dev/null 2>&1; then
    for table in nat filter; do
      iptables-save -t "$table" > "$tmp/rules" 2>/dev/null || continue
      # The name is fixed-length (eos + 8 hex), so it is no prefix of another agent's.
      grep -qF "edgeos-$bridge" "$tmp/rules" || continue
      echo "[edgeos-killall] removing $table rules of CNI network edgeos-$bridge"
      # Rule by rule (not iptables-restore of the whole table, which would drop rules another CNI
      # user adds meanwhile): the rules tagged with our network, then the per-pod chains they jump
      # to (CNI-<hash>, CNI-DN-<hash>). A saved rule is valid sh words once "-A" becomes "-D".
      grep -F "edgeos-$bridge" "$tmp/rules" | sed -n 's/.* -j \(CNI-[A-Za-z0-9-]*\).*/\1/p' | sort -u > "$tmp/chains"
      grep -F "edgeos-$bridge" "$tmp/rules" | grep '^-A ' | while read -r rule; do
        eval "iptables -w -t $table -D ${rule#-A }" 2>/dev/null || true
      done
      while read -r chain; do
        iptables -w -t "$table" -F "$chain" 2>/dev/null && iptables -w -t "$table" -X "$chain" 2>/dev/null ||
          echo "[edgeos-killall] warning: could not delete iptables chain $chain ($table)"
      done < "$tmp/chains"
    done
  fi
  # CNI's result cache: <network>-<sandbox id>-<ifname>, for our network and containerd's
  # cni-loopback, whose entries are ours only by sandbox id.
  rm -f /var/lib/cni/results/"edgeos-$bridge"-*
  for sandbox in "$data_dir"/agent/containerd/root/io.containerd.grpc.v1.cri/sandboxes/*; do
    [ -d "$sandbox" ] && rm -f /var/lib/cni/results/cni-loopback-"${sandbox##*/}"-*
  done
fi
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
rm -f "$SYSTEMD_UNIT" "$(dirname "$SYSTEMD_UNIT")/multi-user.target.wants/edgeos.service" "$OPENRC_SCRIPT"
# The OpenRC service's log (output_log/error_log); systemd's journal is the system's own.
rm -f "$ROOT/var/log/edgeos.log"
rmdir "$(dirname "$SYSTEMD_UNIT")/multi-user.target.wants" 2>/dev/null || true # only if edgeos was its last
if [ -z "$ROOT" ] && [ "$INIT" = systemd ]; then systemctl daemon-reload 2>/dev/null || true; fi
# What an air-gapped bundle installed (runtime-files: paths; directories end in /), files first.
if [ -f "$CONFIG_DIR/runtime-files" ]; then
  echo "[edgeos-uninstall] removing the container runtime installed from the bundle"
  sort -r "$CONFIG_DIR/runtime-files" | while read -r f; do
    case $f in */) rmdir "$ROOT${f%/}" 2>/dev/null || true ;; *) rm -f "$ROOT$f" ;; esac
  done
  # Directories that containerd and the CNI plugins create outside the data dir, if now empty.
  rmdir "$ROOT/run/containerd/s" "$ROOT/run/containerd" "$ROOT/run/netns" "$ROOT/var/lib/cni/results" "$ROOT/var/lib/cni" 2>/dev/null || true
fi
echo "[edgeos-uninstall] removing $BIN, $CONFIG_DIR, $data_dir and this data dir's pod CIDR claim in $ROOT/run/edgeos"
rm -rf "$BIN" "$CONFIG_DIR" "$data_dir"
# Pod CIDR claims are host-wide (another agent on this host keeps its own): remove only ours.
for claim in "$ROOT"/run/edgeos/pod-cidrs/*; do
  if [ -f "$claim" ] && [ "$(cat "$claim")" = "${data_dir#"$ROOT"}" ]; then rm -f "$claim"; fi
done
rmdir "$ROOT/run/edgeos/pod-cidrs" "$ROOT/run/edgeos" 2>/dev/null || true
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
# containerd's shims run in this service's cgroup and the pods in the agent's own /kubepods tree
# (docs/kubelet.md, "QoS cgroups"): systemd must leave the cgroups edgeos manages alone (Delegate)
# and not kill the shims when edgeos restarts (KillMode=process), so pods survive upgrades.
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
elif [ "$INIT" = systemd ] && [ ! -d /run/systemd/system ]; then
  # EDGEOS_INIT=systemd where systemd is not running (an image build, a chroot): systemctl cannot
  # talk to it, so enable the unit the way `systemctl enable` would offline, and start nothing.
  say "systemd is not running here: enabling edgeos.service for the next boot (multi-user.target.wants); not starting it"
  mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
  ln -sf /etc/systemd/system/edgeos.service "$ROOT/etc/systemd/system/multi-user.target.wants/edgeos.service"
elif [ "$INIT" = systemd ]; then
  say "systemctl daemon-reload; enable edgeos.service"
  systemctl daemon-reload || fatal "systemctl daemon-reload failed: see journalctl -xe"
  systemctl enable edgeos.service >/dev/null || fatal "systemctl enable edgeos.service failed"
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
