"""Disk and permission errors on output and ledger paths: one Chinese message, exit 2, nothing
changed. Uses real small tmpfs mounts (the tests run as root here and in CI)."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import uuid
from pathlib import Path

import pytest
from _small_city import write_city

from zlgis.cli import main
from zlgis.ledger import Ledger


@contextlib.contextmanager
def tmpfs(size: str, *, read_only: bool = False):
    """A fresh tmpfs of ``size`` mounted on a new folder, unmounted afterwards."""
    where = Path("/tmp") / f"zlgis-tmpfs-{uuid.uuid4().hex[:8]}"
    where.mkdir()
    opts = f"size={size}" + (",ro" if read_only else "")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)],
                          capture_output=True, text=True)
    if proc.returncode:
        pytest.fail(f"cannot mount a tmpfs for the disk tests: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def _weekly(cat: Path, out: Path, week: str) -> list[str]:
    return ["weekly", "--catalog", str(cat), "--week", week, "--out", str(out), "--quiet",
            "--checks", "controllines"]


def test_read_only_output_folder(tmp_path, capsys):
    cat = write_city(tmp_path / "city", ["B1"])
    with tmpfs("1m", read_only=True) as ro:
        assert main(_weekly(cat, ro, "2022-W35")) == 2
        err = capsys.readouterr().err
        assert f"文件 {ro}/ledger.sqlite.lock：写入失败：文件系统为只读（已有输出和台账未改变）" in err
        assert "Traceback" not in err and not any(ro.iterdir())


def test_full_disk_while_publishing_keeps_earlier_weeks(tmp_path, capsys):
    cat = write_city(tmp_path / "city", ["B1", "B2"])
    with tmpfs("8m") as disk:
        assert main(_weekly(cat, disk, "2022-W35")) in (0, 1)
        before = _tree(disk)
        fp = Ledger(disk / "ledger.sqlite").fingerprint()
        # fill the disk, leaving room for the ledger's small transaction but not the outputs
        _fill(disk, leave=400_000)
        rc = main(_weekly(cat, disk, "2022-W36"))
        err = capsys.readouterr().err
        assert rc == 2 and "Traceback" not in err
        assert "磁盘空间不足" in err
        after = {k: v for k, v in _tree(disk).items() if not k.startswith("fill")}
        # the earlier week's outputs are untouched and no half-written week is left behind
        assert {k: v for k, v in after.items() if k.startswith("2022-W35")} == \
            {k: v for k, v in before.items() if k.startswith("2022-W35")}
        assert not any(k.startswith("2022-W36") or "/." in k or k.startswith(".")
                       for k in after)
        # the ledger recorded the week; the message says so and how to finish the outputs
        assert f"文件 {disk}/2022-W36：本周输出写入失败：磁盘空间不足；台账已记录 2022-W36 的结果" in err
        assert "重新运行 2022-W36 即可得到完整输出" in err
        led = Ledger(disk / "ledger.sqlite")
        assert led.latest_week() == "2022-W36" and led.fingerprint() != fp
        # with room again, rerunning the week completes it
        for p in disk.glob("fill*"):
            p.unlink()
        assert main(_weekly(cat, disk, "2022-W36")) in (0, 1)
        assert (disk / "public" / "2022-W36" / "map_public.html").exists()


def test_full_ledger_disk_is_not_called_corrupt(tmp_path, capsys):
    cat = write_city(tmp_path / "city", ["B1", "B2", "B3"])
    with tmpfs("2m") as disk:
        assert main(_weekly(cat, disk, "2022-W35")) in (0, 1)
        fp = Ledger(disk / "ledger.sqlite").fingerprint()
        _fill(disk, leave=0)
        rc = main(_weekly(cat, disk, "2022-W36"))
        err = capsys.readouterr().err
        assert rc == 2
        assert f"文件 {disk}/ledger.sqlite：台账写入失败：磁盘空间不足（台账未改变）" in err
        assert "损坏" not in err and "Traceback" not in err
        for p in disk.glob("fill*"):
            p.unlink()
        assert Ledger(disk / "ledger.sqlite").fingerprint() == fp


def _free(folder: Path) -> int:
    import os

    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def _fill(folder: Path, *, leave: int) -> None:
    """Fill ``folder``'s file system until at most ``leave`` bytes are free."""
    i = 0
    while _free(folder) > leave:
        chunk = min(1 << 20, max(4096, _free(folder) - leave))
        try:
            (folder / f"fill{i}.bin").write_bytes(b"\0" * chunk)
        except OSError:
            break
        i += 1
