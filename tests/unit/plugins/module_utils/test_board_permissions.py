# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The board's permissions: a new board's mode, the mode and owner a write keeps, the lock file and archive."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _board_store as S

OTHER = 65534  # nobody: a uid and gid that is not the test's
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def owner_of(path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_uid, info.st_gid


@pytest.mark.parametrize("text, mode", [("0600", 0o600), ("600", 0o600), ("0644", 0o644), ("0o660", 0o660),
                                        (" 0640 ", 0o640), (644, 0o644)])
def test_parse_mode_reads_octal_text(text, mode):
    assert S.parse_mode(text) == mode


@pytest.mark.parametrize("text, words", [
    ("0755", "execute or special bits"),
    ("4600", "execute or special bits"),
    ("0400", "does not let its owner read and write"),
    ("0060", "does not let its owner read and write"),
    ("rw-r--r--", "not an octal mode"),
    ("06000", "not an octal mode"),
    ("", "not an octal mode"),
    (384, "0600 unquoted in YAML is the number 384"),  # mode: 0600 without quotes
    (420, "0644 unquoted in YAML is the number 420"),  # mode: 0644 without quotes: valid octal, wrong bits
])
def test_parse_mode_names_the_problem(text, words):
    with pytest.raises(ValueError, match=words):
        S.parse_mode(text)


def test_a_new_board_its_lock_and_archive_are_private(tmp_path):
    board = str(tmp_path / "CLAUDE.md")
    old = os.umask(0o022)
    try:
        B.ensure_board(board, create=True)
        for index in range(3):
            B.update(board, lambda b, i=index: B.send_message(b, "claude", "amp", "m%d" % i, at=B.parse_date("2020-01-01 10:00")))
    finally:
        os.umask(old)
    assert os.path.exists(S.archive_path(board))  # messages older than 7 days were archived
    assert {name: mode_of(tmp_path / name) for name in os.listdir(tmp_path)} == {
        "CLAUDE.md": 0o600, "CLAUDE.md.lock": 0o600, "CLAUDE.archive.md": 0o600}


def test_the_mode_applies_to_a_new_board_and_its_lock_and_archive(tmp_path):
    board = str(tmp_path / "CLAUDE.md")
    old = os.umask(0o077)  # the mode is set exactly, whatever the umask
    try:
        B.ensure_board(board, create=True, mode=0o660)
        B.update(board, lambda b: B.send_message(b, "claude", "amp", "old", at=B.parse_date("2020-01-01 10:00")))
    finally:
        os.umask(old)
    assert mode_of(board) == mode_of(board + ".lock") == mode_of(S.archive_path(board)) == 0o660


def test_an_existing_board_keeps_its_mode_whatever_the_mode_given(tmp_path):
    board = tmp_path / "CLAUDE.md"
    board.write_text("# Notes\n")
    board.chmod(0o644)
    B.ensure_board(str(board), create=True, mode=0o600)
    B.update(str(board), lambda b: B.add_task(b, "Write docs", "amp"))
    assert mode_of(board) == 0o644 and mode_of(str(board) + ".lock") == 0o644
    assert "Write docs" in board.read_text()


def test_a_lock_file_the_writer_cannot_write_is_opened_read_only(tmp_path, monkeypatch):
    board = str(tmp_path / "CLAUDE.md")
    B.ensure_board(board, create=True)
    real_open = S.posix.open

    def no_write(path, flags, *mode):
        if path.endswith(".lock") and flags & S.posix.O_RDWR:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *mode)

    monkeypatch.setattr(S.posix, "open", no_write)
    with S.locked(board, 1.0) as held:
        assert held.fd is not None


def test_the_lock_in_a_missing_directory_is_not_found(tmp_path):
    with pytest.raises(B.NotFound, match="does not exist"):
        with S.locked(str(tmp_path / "nowhere" / "CLAUDE.md")):
            pass


@as_root
def test_a_write_by_root_keeps_the_owner_of_a_users_board(tmp_path):
    board = tmp_path / "CLAUDE.md"
    board.write_text("# Notes\n")
    board.chmod(0o644)
    os.chown(board, OTHER, OTHER)
    B.ensure_board(str(board), create=True)
    B.update(str(board), lambda b: B.send_message(b, "claude", "amp", "old", at=B.parse_date("2020-01-01 10:00")))
    for path in (board, str(board) + ".lock", S.archive_path(str(board))):
        assert owner_of(path) == (OTHER, OTHER) and mode_of(path) == 0o644, path
    copy = S.backup_copy(str(board))
    assert owner_of(copy) == (OTHER, OTHER) and mode_of(copy) == 0o644


@as_root
def test_the_group_alone_is_kept_when_the_owner_cannot_be(tmp_path, monkeypatch):
    path = tmp_path / "shared.md"
    path.write_text("x")
    path.chmod(0o660)
    os.chown(path, OTHER, OTHER)
    calls = []
    real_fchown = S.posix.fchown

    def fchown(fd, uid, gid):  # as a user may: only to the owner it is, into a group it belongs to
        calls.append((uid, gid))
        if uid != -1:
            raise PermissionError(1, "Operation not permitted")
        return real_fchown(fd, uid, gid)

    monkeypatch.setattr(S.posix, "fchown", fchown)
    S.atomic_write(str(path), "y")
    assert calls == [(OTHER, OTHER), (-1, OTHER)]
    assert owner_of(path) == (os.geteuid(), OTHER) and mode_of(path) == 0o660 and path.read_text() == "y"


def test_atomic_write_does_not_chown_a_file_already_owned_alike(tmp_path, monkeypatch):
    path = tmp_path / "mine"
    path.write_text("x")
    monkeypatch.setattr(S.posix, "fchown", lambda *args: pytest.fail("fchown called for a file the writer owns"))
    S.atomic_write(str(path), "y")
    assert path.read_text() == "y"


def test_make_dirs_makes_every_missing_directory_private_and_leaves_existing_ones(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared").chmod(0o755)
    old = os.umask(0o022)
    try:
        S.make_dirs(str(tmp_path / "shared" / "teams" / "a b" / "queue") + "/")
        S.make_dirs(str(tmp_path / "shared" / "teams"))  # there already
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "shared") == 0o755
    assert [mode_of(tmp_path / "shared" / part) for part in ("teams", "teams/a b", "teams/a b/queue")] == [0o700] * 3
