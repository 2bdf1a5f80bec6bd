#!/usr/bin/env bash
# Installs every Debian package DriftRec's build, tests, benchmarks and demo need.
# Idempotent: packages already present are left alone. Run as root (or with sudo).
#
#   scripts/install-deps.sh            # build + test + demo dependencies
#   scripts/install-deps.sh --python   # also python3-torch for the PyTorch reference benchmark
set -euo pipefail

want_python=0
for arg in "$@"; do
  case "$arg" in
    --python) want_python=1 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build ccache pkg-config git curl python3
  # CI checks the C++ formatting (.clang-format) with it.
  clang-format
  # LibTorch, with OpenBLAS (OpenMP build) as the BLAS: the reference BLAS is ~9x slower.
  libtorch-dev libopenblas0-openmp libopenblas-openmp-dev
  # Gloo: the collectives behind LibTorch's ProcessGroupGloo (data-parallel training, train --nproc).
  libgloo-dev
  # tcmalloc: LibTorch's CPU speed on big tensors depends on the allocator.
  libgoogle-perftools-dev
  libfaiss-dev libomp-dev
  libsqlite3-dev sqlite3
  # PostgreSQL: libpq for the postgresql:// event store; the server for its tests (CTest starts a
  # private one with initdb + pg_ctl, tests/integration/postgres_server.sh; never the system service).
  libpq-dev postgresql
  # OpenSSL's libcrypto: tombstones of deleted users, pseudonymised user ids (HMAC-SHA256).
  libssl-dev
  # Boost.Beast/Asio: the server's event-driven HTTP transport; cpp-httplib: the tests' HTTP client.
  libboost-dev libcpp-httplib-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # The Python module (import driftrec) and its tests.
  python3-dev pybind11-dev python3-numpy python3-pandas python3-pytest
  # The HTML report's test opens it in a real headless browser.
  chromium
)
if [[ $want_python == 1 ]]; then packages+=(python3-torch); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [[ $(id -u) != 0 ]]; then SUDO="sudo"; fi

if (( ${#missing[@]} )); then
  echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages already installed"
fi

# Make OpenBLAS (OpenMP build) the system libblas.so.3 / liblapack.so.3. LibTorch loads
# whichever alternative is selected; the reference BLAS makes training ~9x slower.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
for lib in libblas.so.3 liblapack.so.3; do
  target="/usr/lib/$arch/openblas-openmp/$lib"
  if [[ -e $target ]]; then
    $SUDO update-alternatives --set "$lib-$arch" "$target" >/dev/null
  fi
done
echo "install-deps: libblas.so.3 -> $(readlink -f /usr/lib/$arch/libblas.so.3)"
