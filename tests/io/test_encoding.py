import codecs

import pytest

from mtcheck.errors import EncodingError, InputError
from mtcheck.io.encoding import count_lines, iter_lines


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b"a\nb\n", ["a", "b"]),
        (b"a\nb", ["a", "b"]),                       # no final newline
        (b"a\r\nb\r\n", ["a", "b"]),                 # CRLF
        (codecs.BOM_UTF8 + "\u4e2d\n".encode(), ["\u4e2d"]),  # BOM dropped
        (b"\n\n", ["", ""]),                          # empty lines are segments
        ("x\u2028y\n".encode(), ["x\u2028y"]),        # LINE SEPARATOR is not a line end
        ("\U00020000\n".encode(), ["\U00020000"]),    # CJK Extension B
        ("a\ufeffb\n".encode(), ["a\ufeffb"]),        # BOM mid-file is text, not stripped
    ],
)
def test_iter_lines_utf8(write, raw, expected):
    path = write("f.txt", raw)
    assert [t for _, t in iter_lines(path)] == expected
    assert count_lines(path) == len(expected)


def test_utf16_with_bom(write):
    path = write("f.txt", "\u4f60\u597d\nhello\n".encode("utf-16"))
    assert [t for _, t in iter_lines(path)] == ["\u4f60\u597d", "hello"]
    assert count_lines(path) == 2


def test_invalid_utf8_names_file_line_and_byte(write):
    # 1-based: "o" "k" "\n" are file bytes 1-3, "a" "b" 4-5, so 0xff is byte 6 of the file, 3 of line 2
    path = write("bad.zh", b"ok\nab\xff\xfecd\n")
    with pytest.raises(EncodingError) as info:
        list(iter_lines(path))
    msg = str(info.value)
    assert f"{path}:2" in msg
    assert "byte 3 of the line" in msg
    assert "byte 6 of the file" in msg
    assert "0xff" in msg
    assert "gb18030" in msg


def test_gb18030(write):
    text = "\u53cc11\u843d\u5e55\u540e\uff0c\u6210\u4ea4\u989d350.19\u4ebf\u5143\u3002"
    path = write("legacy.zh", (text + "\n").encode("gb18030"))
    with pytest.raises(EncodingError):
        list(iter_lines(path))
    assert [t for _, t in iter_lines(path, "gb18030")] == [text]


def test_unknown_encoding(write):
    path = write("f.txt", "a\n")
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        list(iter_lines(path, "klingon"))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot open file"):
        list(iter_lines(tmp_path / "nope.txt"))
