"""The storage helpers: the one atomic writer, the lock, paths and environment without os."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _board_store as S


def test_atomic_write_creates_replaces_and_keeps_the_mode(tmp_path):
    path = tmp_path / "f.txt"
    S.atomic_write(str(path), "one\n")
    assert path.read_text() == "one\n" and stat.S_IMODE(os.stat(path).st_mode) == 0o600  # private when new
    os.chmod(path, 0o640)
    S.atomic_write(str(path), ["tw", b"o\n", "é"])
    assert path.read_bytes() == "two\né".encode() and stat.S_IMODE(os.stat(path).st_mode) == 0o640
    S.atomic_write(str(path), b"three", 0o600)
    assert path.read_bytes() == b"three" and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["f.txt"]


def test_atomic_write_gives_the_exact_mode_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        S.atomic_write(str(tmp_path / "x"), "x", 0o755)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "x").st_mode) == 0o755


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_atomic_write_keeps_the_owner_of_a_replaced_file(tmp_path):
    path = tmp_path / "owned"
    path.write_text("x")
    os.chown(path, 1234, 5678)
    S.atomic_write(str(path), "y")
    info = os.stat(path)
    assert (info.st_uid, info.st_gid) == (1234, 5678) and path.read_text() == "y"


def test_a_failed_write_leaves_the_target_and_no_temp_file(tmp_path):
    path = tmp_path / "f"
    path.write_text("before")
    with pytest.raises(TypeError):
        S.atomic_write(str(path), [object()])
    assert path.read_text() == "before" and os.listdir(tmp_path) == ["f"]


def test_many_pieces_are_written_in_order(tmp_path):
    pieces = ["%d," % n for n in range(2000)]
    S.atomic_write(str(tmp_path / "p"), pieces)
    assert (tmp_path / "p").read_text() == "".join(pieces)


def test_paths_and_environment_without_os(monkeypatch, tmp_path):
    assert S.archive_path("/a/CLAUDE.md") == "/a/CLAUDE.archive.md"
    assert S.archive_path("board") == "board.archive.md" and S.archive_path("/x.d/.board") == "/x.d/.board.archive.md"
    assert S.exists(str(tmp_path)) and not S.exists(str(tmp_path / "nope"))
    monkeypatch.setenv("MOANA_TEST_VALUE", "v1")
    assert S.getenv("MOANA_TEST_VALUE") == "v1" and S.getenv("MOANA_TEST_UNSET", "d") == "d"


def test_the_lock_times_out_while_another_holds_it(tmp_path):
    path = str(tmp_path / "b.md")
    with S.locked(path):
        with pytest.raises(S.format_lib.LockTimeout, match="could not lock"):
            with S.locked(path, timeout=0.05):
                pass
    with S.locked(path, timeout=0.05):
        pass
