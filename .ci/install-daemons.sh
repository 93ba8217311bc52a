#!/usr/bin/env bash
# Installs the Debian daemons that tojimari-testbed's `daemons` module starts inside test-bed
# namespaces (service/version detection tests and the -sV benchmark). Idempotent: installs only
# what is missing. Package services are never started in the root namespace: a policy-rc.d that
# refuses every start is put in place first (if none exists), and the tests start each daemon
# themselves, foreground, with their own config, bound to a test-bed address.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  echo "install-daemons: must run as root" >&2
  exit 1
fi

# 101 = "action not allowed": apt's maintainer scripts install the services but start none.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
fi

packages=(
  nginx-light            # nginx (http 80, https 443)
  openssh-server         # sshd (22)
  vsftpd                 # ftp (21)
  exim4-daemon-light     # smtp (25)
  dovecot-imapd          # imap (143)
  dovecot-pop3d          # pop3 (110)
  redis-server           # redis (6379)
  memcached              # memcache (11211 tcp+udp)
  mosquitto              # mqtt (1883)
  dnsmasq-base           # dns (53 tcp+udp), without the system service
  snmpd                  # snmp (161 udp)
  postgresql             # postgresql (5432)
  inetutils-telnetd      # telnet (23), run under socat
  fingerd                # finger (79), run under socat
  finger                 # the finger program in.fingerd runs for each query
  socat                  # the inetd stand-in for telnetd and fingerd
  openssl                # certificates, and s_server for the TLS service
  util-linux             # setpriv (run postgres as its user)
  mariadb-server         # mysql (3306): mariadbd, mariadb-install-db
  slapd                  # ldap (389)
  samba                  # microsoft-ds (445): smbd
  tinyproxy              # http-proxy (8888)
  dante-server           # socks5 (1080): danted
  chrony                 # ntp (123 udp): chronyd
  xrdp                   # ms-wbt-server (3389)
  oidentd                # auth (113)
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-daemons: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-daemons: ${#packages[@]} packages present"
