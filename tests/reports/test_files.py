"""File names and Content-Disposition headers made from recall numbers (reports/files.py)."""

from __future__ import annotations

from email.message import Message

import pytest

from lotline.reports import files


@pytest.mark.parametrize(
    ("number", "name"),
    [
        ("RC-2026-0001", "RC-2026-0001-fsma204.csv"),
        ("../../etc/passwd", "_.._etc_passwd-fsma204.csv"),
        ("..", "recall-fsma204.csv"),
        ("/abs/path", "_abs_path-fsma204.csv"),
        ("a\\b\r\nc", "a_b__c-fsma204.csv"),
        ("RC-名前-1", "RC-名前-1-fsma204.csv"),
        ("", "recall-fsma204.csv"),
    ],
)
def test_an_export_name_is_one_file_in_the_working_directory(number, name):
    got = files.export_name(number, "fsma204", "csv")
    assert got == name
    assert "/" not in got and "\\" not in got and not got.startswith(".")


def test_a_download_name_cannot_inject_a_parameter_and_is_always_ascii():
    header = files.content_disposition('RC-1"; filename="evil.exe')
    assert header.isascii()
    assert (
        header
        == "attachment; filename=\"RC-1___filename__evil.exe\"; filename*=UTF-8''RC-1___filename__evil.exe"
    )
    msg = Message()
    msg["Content-Disposition"] = header
    assert msg.get_filename() == "RC-1___filename__evil.exe"


def test_a_non_latin1_name_travels_as_rfc_8187_filename_star():
    header = files.content_disposition("RC-名前-1-fsma204.csv")
    assert header.isascii()
    assert header == (
        "attachment; filename=\"RC-__-1-fsma204.csv\"; filename*=UTF-8''RC-%E5%90%8D%E5%89%8D-1-fsma204.csv"
    )
