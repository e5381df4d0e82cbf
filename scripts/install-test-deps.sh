#!/usr/bin/env bash
# Installs the system packages the test suite needs beyond npm (as root, from Debian's archive):
# - Debian's chromium, for the browser tests (playwright-core downloads no browser);
# - Mesa's software Vulkan (lavapipe), so the webgpu backend's tests run on the CPU;
# - the DejaVu fonts, which `binaryconnect plot` draws the PNGs' text with (resvg has no font built in).
# Idempotent; used by .ci/run and by the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-dejavu-core
fi
if [ -x ../shared/gpu/lavapipe.sh ] || [ -f ../shared/gpu/lavapipe.sh ]; then
  # this workplace's script: the first Mesa that Dawn accepts (bookworm-backports)
  bash ../shared/gpu/lavapipe.sh
else
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1
fi
