#!/bin/sh
# dom0's /init in duster's Xen rig: Xen's dom0 services, the network QEMU forwards to, and the
# control channel (ctl.sh) the host's xl/gdbsx stand-ins talk to. Output goes to Xen's console.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/usr/lib/xen/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs run /run
mkdir -p /run/xen /run/xenstored /var/lib/xen /var/log/xen /tmp
# xen-privcmd before xenfs: xenfs needs xen_privcmd_fops.
for m in xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc e1000; do
  insmod "/lib/modules/$m.ko" || echo "DUSTER-RIG-FAILED insmod $m"
done
mount -t xenfs xenfs /proc/xen
xenstored --pid-file /run/xenstored.pid
i=0
while [ ! -S /run/xenstored/socket ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
xen-init-dom0 || echo "DUSTER-RIG-FAILED xen-init-dom0"
xenconsoled --pid-file=/run/xenconsoled.pid
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
nc -ll -p 9001 -e /duster/ctl.sh &
echo "DUSTER-RIG-READY $(cat /proc/uptime)"
while :; do sleep 3600; done
