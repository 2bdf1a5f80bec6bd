#!/usr/bin/env bash
# Builds the Python module and installs it into Debian's python3 (import driftrec).
#   scripts/install-python.sh [BUILD_DIR]     # default build/
# When `python3` on PATH is another interpreter of the same version (e.g. pyenv's), a .pth file in
# its site directory lets it import the package and Debian's numpy/pandas too.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)" --target _driftrec
cmake --install "$dir" --component python > /dev/null
site=$(/usr/bin/python3 -c "import sysconfig; print(sysconfig.get_path('platlib'))")
echo "install-python: driftrec installed in $site"
other=$(command -v python3 || true)
if [[ -n $other && $(readlink -f "$other") != $(readlink -f /usr/bin/python3) ]]; then
  same=$("$other" -c 'import sys; print(sys.version_info[:2])')
  debian=$(/usr/bin/python3 -c 'import sys; print(sys.version_info[:2])')
  if [[ $same == "$debian" ]]; then
    other_site=$("$other" -c "import sysconfig; print(sysconfig.get_path('purelib'))")
    mkdir -p "$other_site"
    printf '%s\n/usr/lib/python3/dist-packages\n' "$site" > "$other_site/driftrec-debian.pth"
    echo "install-python: $other (same version) sees it through $other_site/driftrec-debian.pth"
  else
    echo "install-python: note: $other is Python $same, the module is built for /usr/bin/python3 ($debian)" >&2
  fi
fi
/usr/bin/python3 -c "import driftrec; print('install-python: import driftrec', driftrec.__version__)"
