#!/usr/bin/env bash
# Installs the system packages the test suite needs beyond npm (as root, from Debian's archive):
# - Debian's chromium, for the browser tests (playwright-core downloads no browser);
# - Mesa's software Vulkan (lavapipe) with the Vulkan loader, so the webgpu backend's tests run
#   on the CPU. Dawn (the npm package `webgpu`) refuses Mesa older than MESA_MIN (bookworm's
#   22.3 lacks shaderUniform*ArrayDynamicIndexing); where the release's own Mesa is older, the
#   release's backports suite is added as an apt source on the same Debian mirror the machine
#   already uses (read from its apt sources), and Mesa is installed from there;
# - the DejaVu fonts, which `binaryconnect plot` draws the PNGs' text with (resvg has no font built in).
# Idempotent (installs and adds only what is missing); stops with a message on any failure.
# Used by .ci/run and by the README's test command.
set -euo pipefail

# The oldest Mesa seen to give Dawn an adapter (bookworm-backports' 25.0); 22.3 is refused.
MESA_MIN=25.0

die() { echo "install-test-deps.sh: $*" >&2; exit 1; }
say() { echo "install-test-deps.sh: $*"; }
trap 'echo "install-test-deps.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages with apt-get)"
command -v apt-get >/dev/null || die "needs apt-get (a Debian system)"
export DEBIAN_FRONTEND=noninteractive

updated=""
apt_update() { [ -n "$updated" ] || { apt-get update -qq || die "apt-get update failed"; updated=1; }; }
apt_install() { apt_update; apt-get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"; }
installed_version() { { dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null || true; } | sed -n 's/^installed //p'; }
new_enough() { [ -n "$1" ] && dpkg --compare-versions "$1" ge "$MESA_MIN"; }
# The version apt would install ("" if none); extra arguments such as `-t SUITE` go to apt-cache.
candidate() { apt-cache policy "$@" 2>/dev/null | sed -n 's/^ *Candidate: //p' | sed '/(none)/d' | head -n 1; }

if ! command -v chromium >/dev/null; then apt_install chromium; fi
if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then apt_install fonts-dejavu-core; fi

# The first Debian mirror among the machine's apt sources that serves the release itself
# (suite = the codename, e.g. "bookworm"): one-line .list files and deb822 .sources files.
debian_mirror() {
  local codename=$1 f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v s="$codename" '$1 == "deb" {
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) == s) { print $i; exit }
    }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$codename" 'BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (n = 1; n <= NF; n++) {
          line = $n
          if (line ~ /^#/ || line !~ /^[A-Za-z-]+:/) continue
          key = tolower(substr(line, 1, index(line, ":") - 1)); val = " " substr(line, index(line, ":") + 1) " "
          gsub(/[ \t]+/, " ", val)
          if (key == "types") types = val; else if (key == "uris") uris = val
          else if (key == "suites") suites = val; else if (key == "enabled") enabled = val
        }
        if (tolower(enabled) !~ / no / && types ~ / deb / && suites ~ (" " s " ")) { split(uris, u, " "); print u[1]; exit }
      }' "$f"
  done
}

mesa=$(installed_version mesa-vulkan-drivers)
if ! new_enough "$mesa" || [ -z "$(installed_version libvulkan1)" ]; then
  apt_update
  if new_enough "$(candidate mesa-vulkan-drivers)"; then
    apt_install mesa-vulkan-drivers libvulkan1
  else
    # shellcheck source=/dev/null
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release: cannot name the backports suite"
    backports="$codename-backports"
    list=/etc/apt/sources.list.d/$backports.sources
    if [ ! -f "$list" ]; then
      uri=$(debian_mirror "$codename" | head -n 1)
      [ -n "$uri" ] || die "no apt source for suite '$codename' in /etc/apt/sources.list{,.d/}: cannot add $backports"
      keyring=/usr/share/keyrings/debian-archive-keyring.gpg
      [ -f "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"
      say "adding $backports from $uri ($list)"
      printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' "$uri" "$backports" "$keyring" > "$list"
      updated=""
      apt_update
    fi
    offered=$(candidate -t "$backports" mesa-vulkan-drivers)
    new_enough "$offered" || die "$backports offers mesa-vulkan-drivers '${offered:-none}', older than $MESA_MIN, which Dawn needs"
    # -t: the backports versions of Mesa's other packages too (mesa-vulkan-drivers needs the same libllvm, libdrm...)
    apt_update
    apt-get install -y -qq --no-install-recommends -t "$backports" mesa-vulkan-drivers libvulkan1 >/dev/null \
      || die "apt-get install -t $backports mesa-vulkan-drivers libvulkan1 failed"
  fi
  mesa=$(installed_version mesa-vulkan-drivers)
  new_enough "$mesa" || die "mesa-vulkan-drivers ${mesa:-not installed} after installing; Dawn needs $MESA_MIN or newer"
fi
say "chromium $(installed_version chromium), mesa-vulkan-drivers $mesa, libvulkan1 $(installed_version libvulkan1)"
