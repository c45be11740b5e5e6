#!/bin/sh
#
# moat finger in an OS-less FreeBSD jail, as in seed 001: the jail holds only
# the service, so rc.subr runs it from outside with jexec. Install as
# /usr/local/etc/rc.d/moat_finger (or a local_startup directory), then:
#   sysrc moat_finger_enable=YES && service moat_finger start
#
# PROVIDE: moat_finger
# REQUIRE: jail
# KEYWORD: shutdown

. /etc/rc.subr

name="moat_finger"
desc="moat finger (RFC 1288) inside the finger jail"
rcvar=moat_finger_enable

load_rc_config ${name}

: ${moat_finger_enable:=NO}
: ${moat_finger_jail:=finger}
# Inside the jail: a single executable built from moat (see moat-root(8)).
: ${moat_finger_command:=/srv/finger/bin/moat}
# FreeBSD's nobody is 65534:65534 (not -2:-2); given as ids because the jail has no passwd.
: ${moat_finger_runas:=65534:65534}
: ${moat_finger_flags:=--homes /home --aliases /etc/finger.conf}

jail_root=$(jls -j "${moat_finger_jail}" path 2>/dev/null)
jailed_pidfile="/log/pids/moat_finger.pid"
pidfile="${jail_root}${jailed_pidfile}"
command="${moat_finger_command}"
start_cmd="moat_finger_start"
start_precmd="moat_finger_prestart"
# rc.subr checks the pid inside this jail; see the seed's note on $JID.
JID=$(jls -j "${moat_finger_jail}" jid 2>/dev/null)

moat_finger_prestart()
{
	[ -n "${jail_root}" ] || err 1 "jail ${moat_finger_jail} is not running"
	mkdir -p -m 0755 "${jail_root}/log/pids"
	# The pidfile is written as root after binding, before the privilege
	# drop, so the directory can stay root's. The service user then cannot
	# remove the file on exit; rc.subr checks the pid, not the file.
}

moat_finger_start()
{
	# Binds port 79 as root, then drops to ${moat_finger_runas}.
	daemon -c jexec "${moat_finger_jail}" \
		${moat_finger_command} finger --run-as-user "${moat_finger_runas}" \
		--pidfile "${jailed_pidfile}" ${moat_finger_flags} \
		>>"${jail_root}/log/stdout" 2>>"${jail_root}/log/stderr" </dev/null
}

run_rc_command "$1"
