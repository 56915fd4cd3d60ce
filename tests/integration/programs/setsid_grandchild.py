"""Test program: leaves a grandchild in a session of its own (as daemons do), writes its pid to ARGV[1]."""

from __future__ import annotations

import os
import sys
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(sys.argv[1] + ".tmp", "w") as stream:
            stream.write(str(os.getpid()))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        while True:
            time.sleep(1)
    os._exit(0)  # the middle process goes: the grandchild is orphaned
while True:
    time.sleep(1)
