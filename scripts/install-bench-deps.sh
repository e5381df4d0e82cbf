#!/usr/bin/env bash
# Installs the benchmark's PyTorch peer (as root, from Debian's archive): python3-torch, run by
# bench/peers/*.py with /usr/bin/python3, and OpenBLAS. Debian's torch calls whatever
# libblas.so.3 the system selects, and the default reference BLAS runs its dense products ~15x
# slower (the CIFAR-10 paper network's step ~1.4x slower on one thread, 1.6x on two), so without
# OpenBLAS the peer's figures understate PyTorch. The report names the BLAS in use.
# Idempotent (installs only what is missing); stops with a message on any failure.
set -euo pipefail

die() { echo "install-bench-deps.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages with apt-get)"
command -v apt-get >/dev/null || die "needs apt-get (a Debian system)"
export DEBIAN_FRONTEND=noninteractive

missing=()
for pkg in python3-torch libopenblas0-pthread; do
  dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi
blas=$(readlink -f "$(ldconfig -p | awk '/libblas\.so\.3 /{print $NF; exit}')" 2>/dev/null || true)
case "$blas" in
  *openblas*) echo "install-bench-deps.sh: python3-torch and OpenBLAS ($blas) ready" ;;
  *) die "libblas.so.3 is ${blas:-missing}, not OpenBLAS: select it with update-alternatives --config libblas.so.3-$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo ARCH)" ;;
esac
