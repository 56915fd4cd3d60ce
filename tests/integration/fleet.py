"""Boxes on this machine for fleet tests: throwaway Unix users behind an sshd of the test's own on loopback.

Each box is a user with its own home, tmux server and team, reached over real SSH with a key, as a remote
dev box is; the playbooks run from the repository, so the shipped ansible.cfg's ssh settings apply. Needs
root (users, sshd) and openssh-server (scripts/setup.sh --test installs it).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


def needs_root_and_sshd() -> None:
    if os.geteuid() != 0:
        pytest.skip("fleet tests make Unix users and an sshd: they need root")
    if not os.path.exists(SSHD) or shutil.which("ssh") is None:
        pytest.skip("openssh-server or openssh-client is not installed (scripts/setup.sh --test installs them)")


class Fleet:
    """Users as boxes behind one sshd on 127.0.0.1:``port``; ``close`` removes them, their processes and the sshd."""

    def __init__(self, root: Path, port: int):
        self.root, self.port = root, port
        self.users: dict[str, str] = {}  # box name -> user
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)  # the users read the stand-in programs kept here
        for key in ("id_ed25519", "host_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / key)], check=True)
        self.sshds: list[subprocess.Popen] = []

    def add_box(self, name: str, without: tuple[str, ...] = ()) -> str:
        """A user for box ``name``; ``without``: programs of /usr/bin its sessions do not find (its PATH is a
        folder of links to every other one), as on a box that lacks them."""
        user = "moana-%s-%d" % (name, os.getpid() % 100000)
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", "-p", "*", user], check=True)
        self.users[name] = user
        home = Path(pwd.getpwnam(user).pw_dir)
        ssh = home / ".ssh"
        ssh.mkdir(mode=0o700)
        (ssh / "authorized_keys").write_text((self.root / "id_ed25519.pub").read_text())
        if without:
            bin_dir = self.root / ("bin-%s" % name)
            bin_dir.mkdir()
            for program in os.listdir("/usr/bin"):
                if program not in without:
                    os.symlink("/usr/bin/" + program, bin_dir / program)
            (ssh / "environment").write_text("PATH=%s:/usr/sbin:/sbin\n" % bin_dir)
        subprocess.run(["chown", "-R", "%s:%s" % (user, user), str(ssh)], check=True)
        (ssh / "authorized_keys").chmod(0o600)
        return user

    def start(self, address: str = "127.0.0.1", netns: str | None = None, controller: tuple[str, ...] = ()) -> None:
        """An sshd on ``address`` (in network namespace ``netns``, when given) that lets the boxes in, ready
        when a box can log in from where the controller runs (``controller``: the prefix that runs a
        command there, such as ``ip netns exec NS``)."""
        config = self.root / ("sshd_config-%s" % address)
        config.write_text("\n".join([
            "Port %d" % self.port, "ListenAddress %s" % address, "HostKey %s" % (self.root / "host_key"),
            "PidFile none", "UsePAM no", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PermitUserEnvironment yes", "AllowUsers %s" % " ".join(self.users.values()),
            "MaxStartups 50:30:100", "MaxSessions 50", "Subsystem sftp internal-sftp", ""]))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        prefix = ["ip", "netns", "exec", netns] if netns else []
        with open(self.root / ("sshd-%s.log" % address), "wb") as log:
            sshd = subprocess.Popen([*prefix, SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=log)
        self.sshds.append(sshd)
        deadline = time.monotonic() + 10
        login = [*controller, "ssh", *self.ssh_options(), "-p", str(self.port), "%s@%s" % (next(iter(self.users.values())), address),
                 "true"]
        while subprocess.run(login, capture_output=True, check=False).returncode != 0:
            if time.monotonic() > deadline or sshd.poll() is not None:
                raise AssertionError("the test's sshd on %s does not let a box in: %s"
                                     % (address, (self.root / ("sshd-%s.log" % address)).read_text()))
            time.sleep(0.1)

    def ssh_options(self) -> list[str]:
        return ["-i", str(self.root / "id_ed25519"), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"]

    def host(self, name: str, address: str = "127.0.0.1", **variables) -> dict:
        """Inventory variables of box ``name`` (its user over the test's sshd on ``address``, the system Python)."""
        return {"ansible_host": address, "ansible_port": self.port, "ansible_user": self.users[name],
                "ansible_ssh_private_key_file": str(self.root / "id_ed25519"),
                "ansible_ssh_common_args": " ".join(self.ssh_options()[2:]),
                "ansible_python_interpreter": "/usr/bin/python3", **variables}

    def inventory(self, hosts: dict[str, dict]) -> str:
        path = self.root / "inventory.json"
        path.write_text(json.dumps({"all": {"hosts": hosts}}))
        return str(path)

    def home(self, name: str) -> Path:
        return Path(pwd.getpwnam(self.users[name]).pw_dir)

    def close(self) -> None:
        for sshd in self.sshds:
            sshd.kill()
            sshd.wait()
        for user in self.users.values():
            subprocess.run(["pkill", "-KILL", "-u", user], check=False)
        for user in self.users.values():
            # The user's tmux server is gone; its socket folder is not.
            shutil.rmtree("/tmp/tmux-%d" % pwd.getpwnam(user).pw_uid, ignore_errors=True)
            for dummy in range(50):  # userdel refuses while a process of the user is still ending
                if subprocess.run(["userdel", "-r", user], capture_output=True, check=False).returncode in (0, 6):
                    break
                time.sleep(0.1)
