"""Stand-in for the get-pip script ansible-test downloads, for machines without that host.

ansible-test runs this with pip's options and the packages to install
(pip==X ...). ensurepip bootstraps pip from the standard library, then pip
installs the pinned packages from the configured package index.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main() -> None:
    # ensurepip points PIP_CONFIG_FILE at /dev/null, which would hide the
    # machine's index and certificate settings from the real install.
    env = {key: value for key, value in os.environ.items() if key != "PIP_CONFIG_FILE"}
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], env=env)
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "pip", "install", *args], env=env)


if __name__ == "__main__":
    main()
