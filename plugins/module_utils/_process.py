# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pidfile-managed background processes, without a service manager. Standard library only.

A process is started detached (new session, stdin from /dev/null, output
appended to a private log) and recorded in a pidfile (JSON, mode 0600): pid,
start time in clock ticks since boot and command line read back from /proc,
and a random token set in its environment. It counts as ours only while a
live pid has that start time and command line, so a pid reused by another
program is never signalled. Stopping ends the process group, every
descendant found in the process tree and every process that still carries the
token (children that called setsid and were orphaned), TERM first, KILL after
the timeout.

Readiness and health probes: a TCP connect, an HTTP GET with an expected
status, and optionally a condition on a JSON field of the body (the proxy:
``/health`` answers 200 and ``counts.available > 0``).

Where it listens: the TCP sockets held by the process, its group, its
descendants and every process with its token, read from their descriptors and
``/proc/net/tcp{,6}``. With ``listen="loopback"`` a listener on any other
address (``0.0.0.0``, ``::``, a machine's address) fails the start, which then
stops what it started, and makes the process unhealthy (fail closed: a
loopback-only setting that did not reach the program is noticed).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shlex
import signal
import socket
import subprocess
import time

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _board_store as store_lib
except ImportError:  # deployed with the orchestra command: the files sit side by side
    import _board_store as store_lib  # type: ignore[no-redef]

TOKEN_VARIABLE = "MOANA_ORCHESTRATION_PROCESS"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
JSON_OPERATORS = ("gt", "ge", "eq", "ne", "lt", "le", "truthy")
LISTEN_CHOICES = ("any", "loopback")


class ProcessError(RuntimeError):
    """The process could not be started, made ready or stopped; the message says why and what to do."""


# --------------------------------------------------------------------------- /proc


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def boot_time() -> float:
    with open("/proc/stat", encoding="ascii") as stream:
        for line in stream:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise ProcessError("cannot read the boot time from /proc/stat")


def read_stat(pid: int):
    """(state, ppid, pgid, sid, starttime) of a pid, or None when it does not exist."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as stream:
            data = stream.read().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = data[data.rfind(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19])


def read_cmdline(pid: int) -> list[str] | None:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as stream:
            raw = stream.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0")[:-1]]


# --------------------------------------------------------------------------- who listens where

_TCP_LISTEN = "0A"


def _hex_address(text: str) -> str:
    """A /proc/net/tcp{,6} address (hex, each 32-bit word in host order, little-endian here) as text."""
    raw = bytes.fromhex(text)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(words) == 4 else socket.AF_INET6, words)


def parse_listeners(table: str) -> list[tuple[str, int, int]]:
    """(host, port, socket inode) of every listening socket in a /proc/net/tcp or tcp6 table."""
    found = []
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 9 and fields[3] == _TCP_LISTEN:
            address, port = fields[1].split(":")
            found.append((_hex_address(address), int(port, 16), int(fields[9])))
    return found


def listeners(proc: str = "/proc") -> list[tuple[str, int, int]]:
    """(host, port, inode) of every TCP socket listening on this machine (IPv4 and IPv6)."""
    found = []
    for name in ("tcp", "tcp6"):
        try:
            with open("%s/net/%s" % (proc, name), encoding="ascii") as stream:
                found.extend(parse_listeners(stream.read()))
        except OSError:
            continue
    return found


def _descriptor_targets(pid: int, proc: str = "/proc"):
    """What each open descriptor of ``pid`` points to (``socket:[INODE]`` for a socket); none when unreadable."""
    try:
        descriptors = os.listdir("%s/%d/fd" % (proc, pid))
    except OSError:
        return
    for fd in descriptors:
        try:
            yield os.readlink("%s/%d/fd/%s" % (proc, pid, fd))
        except OSError:
            continue


def socket_owners(inodes, proc: str = "/proc") -> dict[int, int]:
    """Socket inode -> pid, for the processes whose descriptors this user may read."""
    wanted = {"socket:[%d]" % inode: inode for inode in inodes}
    owners: dict[int, int] = {}
    for pid in _all_pids():
        for target in _descriptor_targets(pid, proc):
            if target in wanted:
                owners.setdefault(wanted[target], pid)
        if len(owners) == len(wanted):
            break
    return owners


def port_holders(port: int) -> list[dict]:
    """Who listens on TCP ``port``: [{host, pid, command}], pid and command None when not visible to this user."""
    found = [(host, inode) for host, number, inode in listeners() if number == port]
    owners = socket_owners([inode for dummy, inode in found]) if found else {}
    holders = []
    for host, inode in found:
        pid = owners.get(inode)
        command = read_cmdline(pid) if pid else None
        holders.append({"host": host, "pid": pid, "command": " ".join(command) if command else None})
    return holders


def held_by_other(port: int, pidfile: str | None) -> str | None:
    """Why ``port`` cannot be used by the process recorded in ``pidfile``: it is held by another program
    (named when visible); None when it is free or held by that process (or one it started)."""
    ours: set[int] = set()
    record = read_record(pidfile) if pidfile else None
    if record and is_alive(int(record["pid"]), int(record["starttime"])):
        ours = {pid for pid in _all_pids() if (read_stat(pid) or (0, 0, None))[2] == record.get("pgid")}
    others = [h for h in port_holders(port) if h["pid"] is None or h["pid"] not in ours]
    if not others:
        return None
    holder = others[0]
    who = "pid %d (%s)" % (holder["pid"], holder["command"]) if holder["pid"] else "a program of another user"
    return "port %d is already in use on %s by %s" % (port, holder["host"], who)


def is_loopback(host: str) -> bool:
    """Whether an address is reachable from this machine only: 127.0.0.0/8, ::1, ::ffff:127.x.x.x."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def address_text(host: str, port: int) -> str:
    """``host:port``, an IPv6 host in brackets."""
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def owned_listeners(table, inodes) -> list[tuple[str, int]]:
    """(host, port) of the listeners in ``table`` ((host, port, inode) as ``listeners`` gives) whose socket
    inode is one of ``inodes``; sorted, each once."""
    inodes = set(inodes)
    return sorted({(host, port) for host, port, inode in table if inode in inodes})


def exposed(addresses) -> list[str]:
    """The (host, port) pairs that other machines may reach (not loopback), as ``host:port``."""
    return [address_text(host, port) for host, port in addresses if not is_loopback(host)]


def exposure_problem(name: str, addresses: list[str]) -> str:
    """What is wrong when a loopback-only process listens on ``addresses`` (``host:port``), and the fix."""
    return ("%s listens on %s, which other machines can reach, but it must listen on loopback only. Make it "
            "listen on 127.0.0.1 (for a Node.js program such as the proxy: the NODE_OPTIONS=--require "
            "loopback-only.js preload must reach node itself, and MOANA_LISTEN_HOST must not be set), or allow it "
            "on purpose (background_process: listen: any; the orchestration role: orchestration_proxy_loopback_only: "
            "false)" % (name, ", ".join(addresses)))


def socket_inodes(pids, proc: str = "/proc") -> set[int]:
    """Inodes of the sockets the processes ``pids`` hold open (those whose descriptors this user may read)."""
    found = set()
    for pid in pids:
        for target in _descriptor_targets(pid, proc):
            if target.startswith("socket:[") and target.endswith("]"):
                found.add(int(target[8:-1]))
    return found


def process_pids(record: dict | None) -> set[int]:
    """The recorded process (when it is ours), its descendants, its group and every process with its token."""
    pids: set[int] = set()
    if record_is_ours(record):
        pids.add(record["pid"])
        pids |= {pid for pid, dummy in descendants(record["pid"])}
        if record.get("pgid"):
            pids |= {pid for pid in _all_pids() if (read_stat(pid) or (0, 0, None))[2] == record["pgid"]}
    if record and record.get("token"):
        pids |= {pid for pid, dummy in marked(record["token"])}
    return pids


def listening(record: dict | None) -> list[tuple[str, int]]:
    """(host, port) of every TCP socket the recorded process and its family listen on."""
    pids = process_pids(record)
    return owned_listeners(listeners(), socket_inodes(pids)) if pids else []


def _has_token(pid: int, token: bytes) -> bool:
    try:
        with open("/proc/%d/environ" % pid, "rb") as stream:
            return token in stream.read().split(b"\0")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def is_alive(pid: int, starttime: int) -> bool:
    """The pid exists, is not a zombie and was started at ``starttime`` (so it is the same process)."""
    stat = read_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X") and stat[4] == starttime


def descendants(pid: int) -> set[tuple[int, int]]:
    """(pid, starttime) of every live process below ``pid`` in the process tree."""
    children: dict[int, list[tuple[int, int]]] = {}
    for other in _all_pids():
        stat = read_stat(other)
        if stat is not None and stat[0] not in ("Z", "X"):
            children.setdefault(stat[1], []).append((other, stat[4]))
    found: set[tuple[int, int]] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child[0])
    return found


def has_children(pid: int) -> bool:
    """Whether the process has a live child (the kernel's children list, else a /proc scan)."""
    try:
        names = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return False
    try:
        for name in names:
            with open("/proc/%d/task/%s/children" % (pid, name), encoding="ascii") as stream:
                if stream.read().strip():
                    return True
        return False
    except OSError:  # a kernel without the children file
        return bool(descendants(pid))


def age(pid: int) -> float | None:
    """Seconds since the process started; None when it does not exist."""
    stat = read_stat(pid)
    if stat is None:
        return None
    return max(0.0, time.time() - (boot_time() + stat[4] / _clock_ticks()))


def marked(token: str, variable: str = TOKEN_VARIABLE) -> set[tuple[int, int]]:
    """(pid, starttime) of every live process whose environment carries ``variable=token``."""
    needle = ("%s=%s" % (variable, token)).encode()
    found = set()
    for pid in _all_pids():
        if pid != os.getpid() and _has_token(pid, needle):
            stat = read_stat(pid)
            if stat is not None and stat[0] not in ("Z", "X"):
                found.add((pid, stat[4]))
    return found


# --------------------------------------------------------------------------- specs and records


class Spec:
    """What to run: validated once, before anything starts."""

    def __init__(self, name: str, command, chdir: str | None = None, environment: dict | None = None,
                 pidfile: str | None = None, log_file: str | None = None, readiness: dict | None = None,
                 stop_timeout: float = 10.0, path_prepend=(), listen: str = "any"):
        if not name or not _NAME_CHARS.issuperset(name):
            raise ProcessError("name %r must be letters, digits, '.', '_' or '-'" % name)
        self.name = name
        argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command or ()]
        if not argv:
            raise ProcessError("command is empty; give the program and its arguments")
        self.argv = argv
        if chdir and not os.path.isdir(chdir):
            raise ProcessError("chdir: directory %s does not exist; create it first or fix the path" % chdir)
        self.chdir = chdir
        environment = environment or {}
        for key in environment:
            if not key or "=" in key or "\0" in key:
                raise ProcessError("environment: %r is not a valid variable name" % key)
        self.environment = {key: str(value) for key, value in environment.items()}
        # Directories searched first for the program, and first on its PATH (such as a user npm prefix's bin).
        self.path_prepend = [str(path) for path in path_prepend or ()]
        state = os.path.join(os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"),
                             "moana-orchestration")
        self.pidfile = pidfile or os.path.join(state, name + ".pid")
        self.log_file = log_file or os.path.join(state, "logs", name + ".log")
        self.readiness = check_readiness(readiness) if readiness else None
        if stop_timeout < 0:
            raise ProcessError("stop_timeout must be 0 or more seconds")
        self.stop_timeout = stop_timeout
        # "loopback": any listener beyond 127.0.0.0/8 and ::1 fails the start and the health check.
        if listen not in LISTEN_CHOICES:
            raise ProcessError("listen %r is not one of %s" % (listen, ", ".join(LISTEN_CHOICES)))
        self.listen = listen

    def fingerprint(self) -> str:
        """Digest of what is run; a different one means the running process is out of date.
        Environment values count, but only as a digest (they are never written down)."""
        raw = json.dumps([self.argv, self.chdir, sorted(self.environment.items())] + ([self.path_prepend] if self.path_prepend else []))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


# The first pause between readiness probes; each next one doubles, up to the probe's interval.
FIRST_PROBE_PAUSE = 0.01


def check_readiness(readiness: dict) -> dict:
    """Validate a probe description: {type: tcp|http, host, port, url, status, json_path, json_op, json_value,
    timeout, interval}. Returns it with defaults filled in."""
    probe = dict(readiness)
    kind = probe.get("type") or ("http" if probe.get("url") else "tcp")
    probe["type"] = kind
    if kind == "tcp":
        if not probe.get("port"):
            raise ProcessError("readiness: a tcp probe needs a port")
        probe["host"] = probe.get("host") or "127.0.0.1"
        probe["port"] = int(probe["port"])
    elif kind == "http":
        from urllib.parse import urlsplit

        url = probe.get("url") or ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProcessError("readiness: url %r must be an http:// or https:// address" % url)
        probe["host"] = parts.hostname
        probe["port"] = parts.port or (443 if parts.scheme == "https" else 80)
        probe["status"] = int(probe.get("status") or 200)
        if probe.get("json_path"):
            op = probe.get("json_op") or "truthy"
            if op not in JSON_OPERATORS:
                raise ProcessError("readiness: json_op %r is not one of %s" % (op, ", ".join(JSON_OPERATORS)))
            probe["json_op"] = op
    else:
        raise ProcessError("readiness: type %r is not tcp or http" % kind)
    probe["timeout"] = float(probe.get("timeout") or 30)
    probe["interval"] = float(probe.get("interval") or 0.1)
    return probe


def read_record(pidfile: str) -> dict | None:
    try:
        with open(pidfile, encoding="utf-8") as stream:
            record = json.load(stream)
        int(record["pid"])
        int(record["starttime"])
        return record
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return {"pid": 0, "starttime": -1, "corrupt": True}


def write_record(pidfile: str, record: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(pidfile)), mode=0o700, exist_ok=True)
    store_lib.atomic_write(pidfile, json.dumps(record), 0o600)


def remove_record(pidfile: str) -> None:
    try:
        os.unlink(pidfile)
    except FileNotFoundError:
        pass


def record_is_ours(record: dict | None) -> bool:
    """The recorded process is alive and is the one we started (start time and command line)."""
    if not record or record.get("corrupt"):
        return False
    if not is_alive(record["pid"], record["starttime"]):
        return False
    recorded = record.get("cmdline")
    return recorded is None or read_cmdline(record["pid"]) == recorded


# --------------------------------------------------------------------------- probes


def _json_field(data, path: str):
    for key in path.split("."):
        if isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        elif isinstance(data, dict) and key in data:
            data = data[key]
        else:
            raise KeyError(path)
    return data


def _compare(value, op: str, wanted) -> bool:
    if op == "truthy":
        return bool(value)
    if op in ("eq", "ne"):
        same = value == wanted or str(value) == str(wanted)
        return same if op == "eq" else not same
    try:
        left, right = float(value), float(wanted)
    except (TypeError, ValueError):
        return False
    return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]


_OP_TEXT = {"gt": ">", "ge": ">=", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "truthy": "true"}


def probe(readiness: dict, timeout: float = 2.0) -> tuple[bool, str]:
    """Run a probe once: (passed, what it saw)."""
    host, port = readiness["host"], readiness["port"]
    if readiness["type"] == "tcp":
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True, "tcp %s:%d accepts connections" % (host, port)
        except OSError as exc:
            return False, "tcp %s:%d: %s" % (host, port, exc.strerror or exc)
    import urllib.error
    import urllib.request

    url = readiness["url"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an HTTP proxy
    try:
        with opener.open(url, timeout=timeout) as response:
            status, body = response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(65536)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, "GET %s: %s" % (url, getattr(reason, "strerror", None) or reason)
    if status != readiness["status"]:
        return False, "GET %s answered %d, wanted %d" % (url, status, readiness["status"])
    path = readiness.get("json_path")
    if not path:
        return True, "GET %s answered %d" % (url, status)
    try:
        value = _json_field(json.loads(body.decode("utf-8", "replace")), path)
    except ValueError:
        return False, "GET %s answered %d but not with JSON: %r" % (url, status, body[:200])
    except KeyError:
        return False, "GET %s answered %d but its JSON has no %s" % (url, status, path)
    op, wanted = readiness["json_op"], readiness.get("json_value")
    condition = "%s %s %s" % (path, _OP_TEXT[op], wanted) if op != "truthy" else "%s is true" % path
    if _compare(value, op, wanted):
        return True, "GET %s answered %d and %s (%r)" % (url, status, condition, value)
    return False, "GET %s answered %d but %s is %r (wanted %s)" % (url, status, path, value, condition)


def log_tail(path: str, lines: int = 20) -> str:
    try:
        with open(path, "rb") as stream:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(max(0, size - 16384))
            data = stream.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(data.splitlines()[-lines:]) or "(empty log)"


# --------------------------------------------------------------------------- lifecycle


def status(spec: Spec) -> dict:
    """Is the recorded process running; facts about it (no probe)."""
    record = read_record(spec.pidfile)
    running = record_is_ours(record)
    facts = {"name": spec.name, "running": running, "pid": None, "started_at": None, "uptime": None,
             "pidfile": spec.pidfile, "log_file": spec.log_file, "stale_pidfile": bool(record) and not running,
             "up_to_date": None}
    if running:
        started = boot_time() + record["starttime"] / _clock_ticks()
        facts.update(pid=record["pid"], started_at=round(started, 2), uptime=round(time.time() - started, 2),
                     up_to_date=record.get("fingerprint") == spec.fingerprint())
    return facts


def health(spec: Spec) -> dict:
    """status() plus one run of the probe."""
    facts = status(spec)
    facts["healthy"], facts["probe"] = None, None
    if facts["running"] and spec.readiness:
        facts["healthy"], facts["probe"] = probe(spec.readiness)
    elif facts["running"]:
        facts["healthy"] = True
    else:
        facts["healthy"] = False
    facts.update(listen_facts(spec, read_record(spec.pidfile) if facts["running"] else None))
    if facts["exposed"] and spec.listen == "loopback":
        facts["healthy"] = False
    return facts


def listen_facts(spec: Spec, record: dict | None) -> dict:
    """Where the process listens (``listening``, ``host:port``), which of it is beyond loopback (``exposed``)."""
    addresses = listening(record) if record else []
    return {"listen": spec.listen, "listening": [address_text(host, port) for host, port in addresses],
            "exposed": exposed(addresses)}


def _open_log(path: str) -> int:
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def start(spec: Spec) -> dict:
    """Start the process detached, record it, and wait for readiness. Raises ProcessError
    (after stopping what it started) when the process exits or is not ready in time."""
    if spec.readiness:
        busy, seen = probe(spec.readiness, timeout=0.5)
        if busy or (spec.readiness["type"] == "http" and "answered" in seen):
            raise ProcessError("%s:%d is already in use by another program (%s); stop that program or change the port"
                               % (spec.readiness["host"], spec.readiness["port"], seen))
    token = os.urandom(8).hex()
    env = dict(os.environ)
    env.update(spec.environment)
    if spec.path_prepend:
        env["PATH"] = os.pathsep.join(spec.path_prepend + [env.get("PATH") or os.defpath])
    env[TOKEN_VARIABLE] = "%s:%s" % (spec.name, token)
    log_fd = _open_log(spec.log_file)
    os.write(log_fd, ("--- %s: starting %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), spec.name)).encode())
    try:
        child = subprocess.Popen(spec.argv, cwd=spec.chdir, env=env, stdin=subprocess.DEVNULL, stdout=log_fd,
                                 stderr=log_fd, start_new_session=True, close_fds=True, umask=0o077)
    except FileNotFoundError:
        raise ProcessError("%s: command %r was not found; install it or give its full path"
                           % (spec.name, spec.argv[0])) from None
    except PermissionError:
        raise ProcessError("%s: %r is not executable" % (spec.name, spec.argv[0])) from None
    finally:
        os.close(log_fd)
    stat = read_stat(child.pid)
    record = {"name": spec.name, "pid": child.pid, "starttime": stat[4] if stat else -1, "pgid": child.pid,
              "token": "%s:%s" % (spec.name, token), "command": spec.argv, "fingerprint": spec.fingerprint(),
              "log_file": spec.log_file, "started_at": time.time()}
    write_record(spec.pidfile, record)
    try:
        seen = _settle(spec, child, record)
    except ProcessError:
        stop(spec)
        raise
    # The command line is read back once it is stable: scripts exec their interpreter first.
    record["cmdline"] = read_cmdline(child.pid)
    write_record(spec.pidfile, record)
    where = listen_facts(spec, record)
    if where["exposed"] and spec.listen == "loopback":
        stop(spec)
        raise ProcessError("%s; it was stopped" % exposure_problem(spec.name, where["exposed"]))
    facts = status(spec)
    facts.update(where, probe=seen, healthy=True)
    return facts


def _settle(spec: Spec, child: subprocess.Popen, record: dict) -> str | None:
    readiness = spec.readiness
    deadline = time.monotonic() + (readiness["timeout"] if readiness else 0.3)
    seen = None
    # Probe soon, then back off to the interval: most programs are ready within a few tens of ms.
    pause = min(FIRST_PROBE_PAUSE, readiness["interval"]) if readiness else 0.05
    while True:
        code = child.poll()
        if code is not None:
            raise ProcessError("%s exited with status %d right after it started; last lines of %s:\n%s"
                               % (spec.name, code, spec.log_file, log_tail(spec.log_file)))
        if readiness:
            ready, seen = probe(readiness, timeout=min(2.0, readiness["timeout"]))
            if ready:
                return seen
        if time.monotonic() >= deadline:
            if not readiness:
                return None
            raise ProcessError("%s did not become ready within %ss; last probe: %s; last lines of %s:\n%s"
                               % (spec.name, readiness["timeout"], seen, spec.log_file, log_tail(spec.log_file)))
        time.sleep(pause)
        if readiness:
            pause = min(pause * 2, readiness["interval"])


def stop(spec: Spec, timeout: float | None = None) -> dict:
    """End the recorded process, its group, its descendants and every process carrying its token.

    Each pid is checked against its recorded start time right before it is
    signalled, so nothing unrelated is ever hit. Returns what was found and
    how it ended.
    """
    timeout = spec.stop_timeout if timeout is None else timeout
    record = read_record(spec.pidfile)
    targets: set[tuple[int, int]] = set()
    leader = record_is_ours(record)
    if leader:
        targets.add((record["pid"], record["starttime"]))
        targets |= descendants(record["pid"])
    if record and record.get("token"):
        targets |= marked(record["token"])
    result = terminate(targets, timeout, record.get("pgid") if leader else None, spec.name)
    result["stale_pidfile"] = bool(record) and not leader
    remove_record(spec.pidfile)
    return result


def terminate(targets: set[tuple[int, int]], timeout: float, pgid: int | None = None, what: str = "processes") -> dict:
    """SIGTERM ``targets`` (and the group ``pgid``), SIGKILL what is left after ``timeout``.

    Returns the pids that were there and those that needed SIGKILL.
    """
    result = {"stopped": sorted(pid for pid, dummy in targets), "killed": []}
    if targets:
        _signal_all(targets, pgid, signal.SIGTERM)
        remaining = _wait_gone(targets, timeout)
        if remaining:
            _signal_all(remaining, pgid, signal.SIGKILL)
            result["killed"] = sorted(pid for pid, dummy in remaining)
            left = _wait_gone(remaining, 5.0)
            if left:
                raise ProcessError("%s: processes %s survived SIGKILL" % (what, sorted(p for p, d in left)))
    return result


def _signal_all(targets: set[tuple[int, int]], pgid: int | None, signum: int) -> None:
    if pgid and any(read_stat(pid) and read_stat(pid)[2] == pgid for pid, dummy in targets):
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            pass
    for pid, starttime in targets:
        if is_alive(pid, starttime):  # checked right before the signal: never a reused pid
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass


def _wait_gone(targets: set[tuple[int, int]], timeout: float) -> set[tuple[int, int]]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = {target for target in targets if is_alive(*target)}
        if not remaining or time.monotonic() >= deadline:
            return remaining
        time.sleep(0.05)


def ensure(spec: Spec, state: str, restart_unhealthy: bool = False, check_mode: bool = False) -> dict:
    """The background_process module's work: make the process started, stopped or restarted."""
    before = health(spec) if state != "stopped" else status(spec)
    actions: list[str] = []
    if state == "stopped":
        if before["running"] or before["stale_pidfile"]:
            actions.append("stop %s (pid %s)" % (spec.name, before["pid"]) if before["running"]
                           else "remove stale pidfile %s" % spec.pidfile)
            if not check_mode:
                stop(spec)
        after = status(spec) if not check_mode else before
        after.update(changed=bool(actions), actions=actions)
        return after
    reason = None
    if state == "restarted":
        reason = "restart requested"
    elif before["running"] and before["exposed"] and spec.listen == "loopback":
        reason = "it listens on %s, beyond loopback" % ", ".join(before["exposed"])
    elif before["running"] and not before["up_to_date"]:
        reason = "its command, directory or environment changed"
    elif before["running"] and not before["healthy"]:
        if not restart_unhealthy:
            raise ProcessError("%s is running (pid %s) but unhealthy: %s; set restart_unhealthy: true to restart it"
                               % (spec.name, before["pid"], before["probe"]))
        reason = "unhealthy: %s" % before["probe"]
    if before["running"] and reason is None:
        before.update(changed=False, actions=[])
        return before
    if before["running"]:
        actions.append("stop %s (pid %s): %s" % (spec.name, before["pid"], reason))
    elif before["stale_pidfile"]:
        actions.append("remove stale pidfile %s" % spec.pidfile)
    actions.append("start %s" % spec.name)
    if check_mode:
        before.update(changed=True, actions=actions)
        return before
    if before["running"] or before["stale_pidfile"]:
        stop(spec)
    after = start(spec)
    after.update(changed=True, actions=actions)
    return after
