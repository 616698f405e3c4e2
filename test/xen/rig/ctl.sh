#!/bin/sh
# One request per connection from the host (a line of words), one answer:
#   "rc=N out=BYTES err=BYTES\n" then stdout then stderr.
# Requests: xl ARGS... | gdbsx DOMID BITS (start it on port 9999, answer once it listens or died)
#   | gdbsx-wait (its exit status and output once it has ended) | gdbsx-kill
#   | dump-core DOMID (the core's bytes stream, then the connection closes) | dump-status | poweroff
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/usr/lib/xen/bin
set -f
read -r line
set -- $line
cmd=$1
shift 2>/dev/null
answer() { # rc outfile errfile
  printf 'rc=%d out=%d err=%d\n' "$1" "$(wc -c <"$2")" "$(wc -c <"$3")"
  cat "$2" "$3"
}
: >/run/ctl.empty
case "$cmd" in
xl)
  xl "$@" >/run/ctl.out 2>/run/ctl.err
  answer $? /run/ctl.out /run/ctl.err
  ;;
gdbsx)
  [ -f /run/gdbsx.pid ] && kill "$(cat /run/gdbsx.pid)" 2>/dev/null
  rm -f /run/gdbsx.rc /run/gdbsx.pid
  (gdbsx -a "$1" "$2" 9999 </dev/null >/run/gdbsx.log 2>&1; echo $? >/run/gdbsx.rc) &
  echo $! >/run/gdbsx.pid
  i=0
  # 270F = port 9999 in /proc/net/tcp, 0A = LISTEN
  while [ $i -lt 300 ]; do
    grep -q ':270F 00000000:0000 0A' /proc/net/tcp && { answer 0 /run/ctl.empty /run/gdbsx.log; exit 0; }
    [ -f /run/gdbsx.rc ] && { answer "$(cat /run/gdbsx.rc)" /run/ctl.empty /run/gdbsx.log; exit 0; }
    sleep 0.05
    i=$((i + 1))
  done
  echo "gdbsx did not listen within 15 s" >/run/ctl.err
  answer 124 /run/ctl.empty /run/ctl.err
  ;;
gdbsx-wait)
  i=0
  while [ ! -f /run/gdbsx.rc ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  if [ -f /run/gdbsx.rc ]; then answer "$(cat /run/gdbsx.rc)" /run/ctl.empty /run/gdbsx.log; else answer 124 /run/ctl.empty /run/gdbsx.log; fi
  ;;
gdbsx-kill)
  [ -f /run/gdbsx.pid ] && pkill -P "$(cat /run/gdbsx.pid)"
  answer 0 /run/ctl.empty /run/ctl.empty
  ;;
dump-core)
  # The dom0 has no room for a core: xl writes it strictly in order, so a fifo streams it out.
  # skiphole.so fails xl's one-page maps of the gpfns between the guest's RAM and 0xf0000 at
  # once (libxenguest tries each of ~1M of them otherwise, for minutes).
  mem=$(xl list "$1" 2>/dev/null | awk 'NR == 2 { print $3 }')
  rm -f /run/core.fifo /run/dump.rc
  mkfifo /run/core.fifo
  (LD_PRELOAD=/duster/skiphole.so XFM_SKIP="$(printf '%x' $((${mem:-0} * 256)))-f0000" \
    xl dump-core "$1" /run/core.fifo >/run/dump.log 2>&1; echo $? >/run/dump.rc) &
  cat /run/core.fifo
  ;;
dump-status)
  i=0
  while [ ! -f /run/dump.rc ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  answer "$(cat /run/dump.rc 2>/dev/null || echo 124)" /run/ctl.empty /run/dump.log
  ;;
poweroff)
  answer 0 /run/ctl.empty /run/ctl.empty
  sync
  reboot -f
  ;;
*)
  echo "unknown request: $cmd" >/run/ctl.err
  answer 2 /run/ctl.empty /run/ctl.err
  ;;
esac
