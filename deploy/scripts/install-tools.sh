#!/bin/sh
# Make sure prometheus, promtool, alertmanager and amtool are on PATH (Debian packages), and chromium
# with chromedriver, which the pages' tests (tests/serving/test_ui_browser.py) drive headless.
# Silent and fast when they already are. Never leaves a daemon running: the packages'
# postinst would start the services, so a policy-rc.d forbids that for the duration,
# and any daemon that appears anyway is stopped.
set -eu

PACKAGES="prometheus prometheus-alertmanager chromium chromium-driver"
TOOLS="prometheus promtool alertmanager amtool chromium chromedriver"
DAEMONS="/usr/bin/prometheus /usr/bin/prometheus-alertmanager"
# Debian names the binary prometheus-alertmanager; upstream (and our docs) call it alertmanager.
ALIAS=/usr/local/bin/alertmanager

installed() {
  for pkg in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || return 1
  done
  for tool in $TOOLS; do
    command -v "$tool" >/dev/null 2>&1 || return 1
  done
}

daemon_pids() {
  for daemon in $DAEMONS; do pidof "$daemon" 2>/dev/null || true; done | tr ' ' '\n' | sort
}

installed && exit 0

if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "error: need root or sudo to install $PACKAGES" >&2
  exit 1
fi

missing_pkgs=""
for pkg in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || missing_pkgs="$missing_pkgs $pkg"
done

if [ -n "$missing_pkgs" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: apt-get not found; install $TOOLS from the Prometheus and Alertmanager releases" >&2
    exit 1
  fi
  # Answer 101 ("action forbidden") to every invoke-rc.d call, unless a policy already exists.
  POLICY=/usr/sbin/policy-rc.d
  OWN_POLICY=""
  if [ ! -e "$POLICY" ]; then
    $SUDO sh -c "printf '#!/bin/sh\nexit 101\n' > $POLICY && chmod 0755 $POLICY"
    OWN_POLICY=1
  fi
  trap '[ -z "$OWN_POLICY" ] || $SUDO rm -f "$POLICY"' EXIT
  trap 'exit 1' INT TERM

  before=$(daemon_pids)
  echo "installing Debian packages:$missing_pkgs" >&2
  apt_install() {
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing_pkgs >/dev/null
  }
  # A fresh image has no package index; refresh it only when the first attempt fails.
  if ! apt_install 2>/dev/null; then
    if ! { $SUDO apt-get update -qq >/dev/null && apt_install; }; then
      echo "error: apt-get install$missing_pkgs failed (see the apt-get output above)" >&2
      exit 1
    fi
  fi
  # Stop only daemons that appeared during the install; anything running before is not ours.
  for pid in $(daemon_pids); do
    if ! printf '%s\n' "$before" | grep -qx "$pid"; then
      echo "stopping pid $pid, started by the package's postinst" >&2
      $SUDO kill "$pid" 2>/dev/null || true
    fi
  done
fi

if ! command -v alertmanager >/dev/null 2>&1 && [ -x /usr/bin/prometheus-alertmanager ]; then
  $SUDO ln -sf /usr/bin/prometheus-alertmanager "$ALIAS"
fi

if ! installed; then
  for tool in $TOOLS; do
    command -v "$tool" >/dev/null 2>&1 || echo "error: $tool is still missing from PATH after installing $PACKAGES" >&2
  done
  exit 1
fi
