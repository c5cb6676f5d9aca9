"""The data dir's free space, as readiness and the probe report it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cns.config import CNSConfig
from cns.services import disk_space
from cns.services.disk_space import DataDirSpaceError, check_data_dir


def test_space_of_a_data_dir_not_created_yet_is_its_parents(tmp_path: Path) -> None:
    space = disk_space.disk_space(tmp_path / "not" / "yet")
    assert space.path == tmp_path / "not" / "yet"
    assert space.total_bytes == shutil.disk_usage(tmp_path).total and space.free_bytes > 0


def test_below_the_minimum_names_the_dir_the_numbers_and_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def nearly_full(path: Path) -> disk_space.DiskSpace:
        return disk_space.DiskSpace(path, free_bytes=3 * disk_space.MIB // 2, total_bytes=8 * disk_space.MIB)

    monkeypatch.setattr(disk_space, "disk_space", nearly_full)
    config = CNSConfig(data_dir=tmp_path, service={"data_dir_min_free_mb": 2})
    with pytest.raises(DataDirSpaceError) as caught:
        check_data_dir(config)
    assert caught.value.message.startswith(f"data dir {tmp_path} has 1.5 MiB free of 8 MiB")
    assert "service.data_dir_min_free_mb = 2" in caught.value.message
    assert caught.value.details == {"path": str(tmp_path), "free_mb": 1.5, "min_free_mb": 2.0}
    assert check_data_dir(CNSConfig(data_dir=tmp_path, service={"data_dir_min_free_mb": 1})) == {
        "free_mb": 1.5
    }
    assert check_data_dir(CNSConfig(data_dir=tmp_path, service={"data_dir_min_free_mb": 0})) == {
        "free_mb": 1.5
    }
