"""Locating, verifying and downloading data files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ibkit._errors import ChecksumError, DataError
from ibkit.data import RemoteFile, candidate_dirs, locate
from ibkit.data._files import cache_root


def _spec(content: bytes, url: str = "") -> RemoteFile:
    return RemoteFile("blob.bin", hashlib.md5(content).hexdigest(), (url,) if url else ())


def test_search_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IBKIT_DATA", str(tmp_path / "env"))
    dirs = candidate_dirs("mnist", tmp_path / "given")
    assert dirs[:4] == [tmp_path / "given" / "mnist", tmp_path / "given",
                        tmp_path / "env" / "mnist", tmp_path / "env"]
    assert dirs[4].parts[-2:] == ("ibkit", "mnist")


def test_locate_finds_a_verified_file(tmp_path):
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "blob.bin").write_bytes(b"hello")
    assert locate("set", (_spec(b"hello"),), tmp_path) == tmp_path / "set"


def test_one_flipped_byte_gives_a_checksum_error_naming_the_file(tmp_path):
    (tmp_path / "blob.bin").write_bytes(b"hellp")
    with pytest.raises(ChecksumError, match=r"blob\.bin.*md5 is .*expected"):
        locate("set", (_spec(b"hello"),), tmp_path)


def test_absent_and_offline_says_which_files_to_put_where(tmp_path):
    with pytest.raises(DataError, match=r"not found: put blob\.bin in one of .*IBKIT_DATA"):
        locate("set", (_spec(b"hello"),), tmp_path)


def test_download_goes_to_the_cache_and_is_verified(tmp_path, monkeypatch):
    monkeypatch.setenv("IBKIT_OFFLINE", "0")
    src = tmp_path / "mirror" / "blob.bin"
    src.parent.mkdir()
    src.write_bytes(b"payload")
    got = locate("set", (_spec(b"payload", src.as_uri()),), None)
    assert (got / "blob.bin").read_bytes() == b"payload"
    assert "ibkit" in got.parts


def test_download_with_wrong_content_is_refused_and_not_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("IBKIT_OFFLINE", "0")
    src = tmp_path / "blob.bin"
    src.write_bytes(b"tampered")
    spec = RemoteFile("blob.bin", hashlib.md5(b"payload").hexdigest(), (src.as_uri(),))
    with pytest.raises(DataError, match="Download failed"):
        locate("set", (spec,), None)
    leftovers = [p for p in Path(tmp_path).rglob("*") if p.name.startswith("blob.bin.")]
    assert leftovers == []
    # the unverified file itself never reaches the cache
    assert not (cache_root() / "set" / "blob.bin").exists()
