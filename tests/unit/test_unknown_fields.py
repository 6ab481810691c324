"""Unknown-field notices: unknown fields and enum values are logged once, nothing else is."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pleo_export_raw.models import (
    CursorPaginatedResponseExportJob,
    ExportJob,
    ExportJobStatus,
    ExportJobV3,
    LinksResponse,
)

from pleo_export import _unknown_fields

WHERE = "GET /v2/export-jobs/{jobId}"
JOB: dict[str, Any] = {
    "id": "00000000-0000-0000-0000-000000000001",
    "companyId": "00000000-0000-0000-0000-000000000002",
    "createdAt": "2025-01-01T00:00:00+00:00",
    "expiresIn": 3600,
    "isInteractive": False,
    "numberOfItems": 1,
    "status": "pending",
    "vendorBasedBookkeeping": False,
}
PAGE_INFO = {
    "currentRequestPagination": {"parameters": {}},
    "hasNextPage": False,
    "hasPreviousPage": False,
    "startCursor": None,
    "endCursor": None,
    "total": 1,
}


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    """Each test starts with nothing reported."""
    _unknown_fields.reset()
    yield
    _unknown_fields.reset()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "pleo_export.drift" and r.levelno == logging.WARNING
    ]


def test_unknown_field_is_reported_with_version_and_remedy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A response field the spec lacks is named as Class.field, with the spec version and a fix."""
    job = ExportJobV3.from_dict({**JOB, "archivedBy": "someone"})
    _unknown_fields.note_unknowns(job, where="GET /v3/export-jobs/{jobId}")
    [message] = _warnings(caplog)
    assert "ExportJobV3.archivedBy" in message
    assert "GET /v3/export-jobs/{jobId}" in message
    assert _unknown_fields.SPEC_VERSION in message
    assert "make update-spec" in message


def test_unknown_enum_value_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    """An enum value the spec lacks is named as Enum='value'."""
    _unknown_fields.note_unknowns(ExportJob.from_dict({**JOB, "status": "archived"}), where=WHERE)
    [message] = _warnings(caplog)
    assert "ExportJobStatus='archived'" in message


def test_each_name_is_reported_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    """The same unknown name seen again, anywhere, does not log again; a new name does."""
    for where in (WHERE, WHERE, "GET /v2/export-jobs"):
        _unknown_fields.note_unknowns(
            ExportJob.from_dict({**JOB, "status": "archived"}), where=where
        )
    _unknown_fields.note_unknowns(ExportJob.from_dict({**JOB, "status": "paused"}), where=WHERE)
    assert len(_warnings(caplog)) == 2


def test_reset_reports_again(caplog: pytest.LogCaptureFixture) -> None:
    """After reset() an already reported name is reported again."""
    job = ExportJob.from_dict({**JOB, "status": "archived"})
    _unknown_fields.note_unknowns(job, where=WHERE)
    _unknown_fields.reset()
    _unknown_fields.note_unknowns(job, where=WHERE)
    assert len(_warnings(caplog)) == 2


def test_nested_models_and_lists_are_walked(caplog: pytest.LogCaptureFixture) -> None:
    """Unknowns inside a page's list of items and its nested pagination model are found."""
    page = CursorPaginatedResponseExportJob.from_dict(
        {
            "data": [JOB, {**JOB, "status": "archived", "archivedBy": "x"}],
            "pagination": {**PAGE_INFO, "cursorKind": "opaque"},
        }
    )
    _unknown_fields.note_unknowns(page, where="GET /v2/export-jobs")
    assert sorted(m.split(" (in")[0] for m in _warnings(caplog)) == [
        "Pleo sent field CursorPageInfo.cursorKind",
        "Pleo sent field ExportJob.archivedBy",
        "Pleo sent value ExportJobStatus='archived'",
    ]


def test_known_data_is_silent(caplog: pytest.LogCaptureFixture) -> None:
    """A response holding only what the spec lists logs nothing."""
    page = CursorPaginatedResponseExportJob.from_dict({"data": [JOB], "pagination": PAGE_INFO})
    _unknown_fields.note_unknowns(page, where="GET /v2/export-jobs")
    assert _warnings(caplog) == []


def test_v3_open_strings_are_not_checked(caplog: pytest.LogCaptureFixture) -> None:
    """v3 declares status as a plain string, so a new value there is not drift."""
    _unknown_fields.note_unknowns(ExportJobV3.from_dict({**JOB, "status": "archived"}), where=WHERE)
    assert _warnings(caplog) == []


def test_declared_maps_are_not_unknown_fields(caplog: pytest.LogCaptureFixture) -> None:
    """Keys of a schema declared as a map (additionalProperties) are data, not unknown fields."""
    links = LinksResponse.from_dict(
        {"api": {"receipt": "https://a"}, "web": {"anything": "https://b"}, "mobile": {}}
    )
    _unknown_fields.note_unknowns(links, where=WHERE)
    assert _warnings(caplog) == []


@pytest.mark.parametrize(
    "value", [None, "archived", 3, {"status": "archived"}, ExportJobStatus.PENDING]
)
def test_other_values_are_ignored(value: object, caplog: pytest.LogCaptureFixture) -> None:
    """Plain values, raw dicts and known enum members are ignored without error."""
    _unknown_fields.note_unknowns(value, where=WHERE)
    assert _warnings(caplog) == []


def test_class_shape_is_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A class's shape (its fields, read with attrs.fields) is computed on the first instance
    and kept in the module's own cache: after three walks of a page the cache holds one shape
    for each of the five classes met, the very objects the first walk made. A shape computed
    per instance (not cached, or cached anew each time) fails this; attrs itself is not
    patched."""
    shapes: dict[type, object] = {}
    monkeypatch.setattr(_unknown_fields, "_shapes", shapes)
    page = CursorPaginatedResponseExportJob.from_dict({"data": [JOB] * 3, "pagination": PAGE_INFO})
    _unknown_fields.note_unknowns(page, where=WHERE)
    first = dict(shapes)
    for _ in range(2):
        _unknown_fields.note_unknowns(page, where=WHERE)
    assert sorted(cls.__name__ for cls in shapes) == sorted(
        [
            "CursorPaginatedResponseExportJob",
            "ExportJob",
            "CursorPageInfo",
            "CursorPageCurrentRequestInfo",
            "CursorPageCurrentRequestInfoParameters",
        ]
    )
    assert all(shapes[cls] is shape for cls, shape in first.items())
