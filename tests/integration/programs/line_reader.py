"""A small prompt-reading program for delivery tests, behaving like an agent CLI.

Usage: line_reader.py OUT [BUSY_FILE]

Puts the terminal in raw mode and asks for bracketed paste, as TUIs do; shows
"> " when idle; while BUSY_FILE exists it shows a moving "working N" line and
no prompt. Each submitted input (Enter outside a paste) is appended to OUT as a
JSON line: {"text": ..., "while_busy": bool, "stray": [...]} where ``stray``
lists escape sequences or control bytes that arrived other than the paste
markers (a sanitised message must bring none).
"""

import json
import os
import select
import sys
import termios
import time
import tty

PASTE_START, PASTE_END = b"\x1b[200~", b"\x1b[201~"


def main():
    out_path = sys.argv[1]
    busy_file = sys.argv[2] if len(sys.argv) > 2 else None
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    write = sys.stdout.buffer.write
    write(b"\x1b[?2004h")
    pending = bytearray()
    text = bytearray()
    stray: list[str] = []
    in_paste = False
    arrived_busy = False
    shown_idle = False
    tick = 0
    try:
        while True:
            busy = bool(busy_file) and os.path.exists(busy_file)
            if busy:
                tick += 1
                write(b"\r\x1b[Kworking %d" % tick)
                shown_idle = False
            elif not shown_idle:
                write(b"\r\x1b[K> ")
                shown_idle = True
            sys.stdout.flush()
            if not select.select([fd], [], [], 0.1)[0]:
                continue
            data = os.read(fd, 65536)
            if not data:
                return
            arrived_busy = arrived_busy or busy
            pending += data
            while pending:
                if pending.startswith(b"\x1b"):
                    if len(pending) < len(PASTE_START) and PASTE_START.startswith(bytes(pending)):
                        break  # the rest of a marker is still coming
                    if pending.startswith(PASTE_START) or pending.startswith(PASTE_END):
                        in_paste = pending.startswith(PASTE_START)
                        del pending[:len(PASTE_START)]
                        continue
                    stray.append(repr(bytes(pending[:8])))
                    del pending[:1]
                    continue
                byte = pending[0]
                del pending[:1]
                if byte in (13, 10) and not in_paste:
                    record = {"text": text.decode("utf-8", "replace"), "while_busy": arrived_busy, "stray": stray}
                    with open(out_path, "a", encoding="utf-8") as stream:
                        stream.write(json.dumps(record) + "\n")
                    text, stray, arrived_busy, shown_idle = bytearray(), [], False, False
                    write(b"\r\n")
                elif byte in (13, 10):
                    text += b"\n"
                    write(b" ")
                elif byte < 0x20 or byte == 0x7F:
                    stray.append(repr(bytes([byte])))
                else:
                    text.append(byte)
                    write(bytes([byte]))
            sys.stdout.flush()
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


if __name__ == "__main__":
    time.sleep(0.05)
    main()
