"""The fake's HTTP surface: a Starlette app serving the v2 and v3 Export API operations.

Each route is named after Pleo's operationId. Handlers are synchronous functions of one parsed
call that return (status, JSON payload); authentication, error bodies and encoding are shared.
Fault injection wraps this app from outside (``_faults``) and is not visible here.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pleo_export.testing._auth import Credentials
from pleo_export.testing._data import build_export_item
from pleo_export.testing._files import FILE_OPERATION, FileHost
from pleo_export.testing._paging import ListView, RangeView, page, parse_page_request
from pleo_export.testing._rules import (
    CONTENT_TYPE,
    ITEM_FAILURE_REASON_TYPES_V2,
    ITEM_FAILURE_REASON_TYPES_V3,
    ITEM_STATUSES,
    JOB_EVENTS,
    JOB_FAILURE_REASON_TYPES,
    JOB_STATUSES,
    ApiError,
)
from pleo_export.testing._store import Store
from pleo_export.testing._validate import (
    enum_value,
    json_body,
    optional_bool,
    optional_str,
    query_enums,
    query_one,
    query_uuid,
    require_uuid,
    timestamp,
)

try:
    import orjson

    def dumps(payload: Any) -> bytes:
        """Encode ``payload`` as compact JSON bytes."""
        return orjson.dumps(payload)

except ImportError:  # pragma: no cover - orjson is optional

    def dumps(payload: Any) -> bytes:
        """Encode ``payload`` as compact JSON bytes."""
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


__all__ = ["build_app", "dumps", "json_response"]

_Result = tuple[int, Any]
_JOB_SORT_KEYS = frozenset({"createdAt", "id"})
_ITEM_SORT_KEYS = frozenset({"accountingEntryId"})


@dataclass(frozen=True, slots=True)
class _Call:
    """One parsed request: API version, query items, path parameters, raw body, and the base
    URL it came in on (file URLs point there)."""

    version: int
    query: list[tuple[str, str]]
    path: dict[str, str]
    body: bytes
    base_url: str = ""


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """Return a response with Pleo's JSON content type, or an empty one if ``payload`` is None."""
    if payload is None:
        return Response(status_code=status, headers=headers)
    return Response(dumps(payload), status_code=status, media_type=CONTENT_TYPE, headers=headers)


class _Api:
    """The operation handlers, bound to one store."""

    def __init__(self, store: Store, files: FileHost) -> None:
        self.store = store
        self.files = files

    def _ascending_items(self, call: _Call, kind: str) -> Any:
        request = parse_page_request(call.query, kind, _ITEM_SORT_KEYS)
        if request.descending("accountingEntryId"):
            raise ApiError.bad_request("The fake lists items in ascending accountingEntryId only.")
        return request

    def list_jobs(self, call: _Call) -> _Result:
        request = parse_page_request(call.query, "J", _JOB_SORT_KEYS)
        company_id = query_uuid(call.query, "company_id")
        names = ("statuses", "status") if call.version == 2 else ("statuses",)
        statuses = query_enums(call.query, names, JOB_STATUSES)
        jobs = [
            job
            for job in self.store.ordered_jobs
            if company_id is None or job.company_id == company_id
        ]
        for key in reversed(request.sorting_keys):
            if key == "id":
                jobs.sort(key=lambda job: job.id, reverse=request.descending(key))
            else:
                jobs.sort(
                    key=lambda job: (job.created_at, job.seq), reverse=request.descending(key)
                )
        view = ListView(
            [job.seq for job in jobs], [not statuses or j.status in statuses for j in jobs]
        )
        keys, info = page(view, request)
        return 200, {
            "data": [self.store.ordered_jobs[k].to_json() for k in keys],
            "pagination": info,
        }

    def create_job(self, call: _Call) -> _Result:
        body = json_body(call.body)
        if not isinstance(body, dict):
            raise ApiError.bad_request("The request body must be a JSON object.")
        company_id = require_uuid(body.get("companyId"), "companyId")
        raw_ids = body.get("accountingEntryIds")
        if not isinstance(raw_ids, list):
            raise ApiError.bad_request("`accountingEntryIds` must be an array of UUIDs.")
        entry_ids = [require_uuid(value, "accountingEntryIds") for value in raw_ids]
        employee = body.get("employeeId")
        created_by = None if employee is None else require_uuid(employee, "employeeId")
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise ApiError.bad_request("`options` must be an object.")
        company = self.store.company(company_id)
        if call.version >= 3 and not company.contra_accounts_configured:
            raise _missing_contra_accounts()
        job = self.store.create_job(
            company_id,
            entry_ids=entry_ids,
            created_by=created_by,
            is_interactive=optional_bool(body, "isInteractive", True),
            vendor_based=optional_bool(options, "vendorBasedBookkeeping", False),
        )
        return 201, {"data": job.to_json()}

    def get_job(self, call: _Call) -> _Result:
        job = self.store.job(require_uuid(call.path["jobId"], "jobId"))
        return 200, {"data": job.to_json()}

    def post_event(self, call: _Call) -> _Result:
        body = json_body(call.body)
        if not isinstance(body, dict):
            raise ApiError.bad_request("The request body must be a JSON object.")
        job_id = require_uuid(body.get("jobId"), "jobId")
        event = enum_value(body.get("event"), "event", JOB_EVENTS)
        reason_type = body.get("failureReasonType")
        if reason_type is not None:
            enum_value(reason_type, "failureReasonType", JOB_FAILURE_REASON_TYPES)
        self.store.post_event(job_id, event, optional_str(body, "failureReason"), reason_type)
        return 202, None

    def list_job_items(self, call: _Call) -> _Result:
        job = self.store.job(require_uuid(call.path["jobId"], "jobId"))
        request = self._ascending_items(call, "I")
        raw_status = query_one(call.query, "status")
        status = None if raw_status is None else enum_value(raw_status, "status", ITEM_STATUSES)
        view = job.view(status) or RangeView(job.count)
        keys, info = page(view, request)
        return 200, {"data": [job.item_json(i) for i in keys], "pagination": info}

    def update_items(self, call: _Call) -> _Result:
        job_id = require_uuid(call.path["jobId"], "jobId")
        body = json_body(call.body)
        if not isinstance(body, list):
            raise ApiError.bad_request("The request body must be a JSON array of item updates.")
        job = self.store.job(job_id)
        if len(body) <= 100:  # the store answers 413 for larger batches before any validation
            self.store.check_running(job)
            body = [self._item_update(update, call.version) for update in body]
        updated, errors = self.store.update_items(job_id, body)
        return 200, {"data": [job.item_json(i) for i in updated], "errors": errors}

    @staticmethod
    def _item_update(update: Any, version: int) -> dict[str, Any]:
        if not isinstance(update, dict):
            raise ApiError.bad_request("Each item update must be a JSON object.")
        reasons = ITEM_FAILURE_REASON_TYPES_V3 if version >= 3 else ITEM_FAILURE_REASON_TYPES_V2
        checked: dict[str, Any] = {
            "accountingEntryId": require_uuid(update.get("accountingEntryId"), "accountingEntryId"),
            "status": enum_value(update.get("status"), "status", ITEM_STATUSES),
        }
        for name in ("externalId", "externalUrl", "failureReason"):
            checked[name] = optional_str(update, name)
        exported_at = optional_str(update, "exportedAt")
        checked["exportedAt"] = (
            None if exported_at is None else timestamp(exported_at, "exportedAt")
        )
        reason_type = update.get("failureReasonType")
        if reason_type is not None:
            enum_value(reason_type, "failureReasonType", reasons)
        checked["failureReasonType"] = reason_type
        return checked

    def list_export_items(self, call: _Call) -> _Result:
        job = self.store.job(query_uuid(call.query, "job_id", required=True) or "")
        request = self._ascending_items(call, "X")
        self.store.check_running(job)
        company = self.store.company(job.company_id)
        if call.version >= 3 and not company.contra_accounts_configured:
            raise _missing_contra_accounts()
        if call.version == 2 and company.multi_currency:
            raise ApiError.bad_request(
                "This company uses multi-currency wallets; use the v3 API.",
                "UNSUPPORTED_API_VERSION",
            )
        keys, info = page(RangeView(job.count), request)
        seed, cat, vendor_based = self.store.seed, company.catalogue, job.vendor_based
        data = [
            build_export_item(
                cat, seed, job.entry_id(i), version=call.version, vendor_based=vendor_based
            )
            for i in keys
        ]
        for item in data:
            self.files.sign_files(item, call.base_url)
        return 200, {"data": data, "pagination": info}

    def get_job_item(self, call: _Call) -> _Result:
        company_id = query_uuid(call.query, "company_id")
        entry = query_uuid(call.query, "accounting_entry_id", required=True) or ""
        found = self.store.find_item(company_id, entry)
        if found is None:
            raise ApiError(
                404, "EXPORT_ENTRY_NOT_FOUND", "No export job item for this accounting entry."
            )
        job, index = found
        return 200, {"data": job.item_json(index)}

    def search_job_items(self, call: _Call) -> _Result:
        request = parse_page_request(call.query, "S", frozenset())
        company_id = query_uuid(call.query, "company_id")
        body = json_body(call.body)
        if not isinstance(body, dict) or not isinstance(body.get("accountingEntryIds"), list):
            raise ApiError.bad_request("The body needs `accountingEntryIds`, an array of UUIDs.")
        raw_status = body.get("status")
        status = None if raw_status is None else enum_value(raw_status, "status", ITEM_STATUSES)
        ids = [require_uuid(value, "accountingEntryIds") for value in body["accountingEntryIds"]]
        found = []
        for eid in dict.fromkeys(ids):
            hit = self.store.find_item(company_id, eid)
            if hit is not None and (status is None or hit[0].item_status(hit[1]) == status):
                found.append(hit)
        keys, info = page(RangeView(len(found)), request)
        return 200, {"data": [found[k][0].item_json(found[k][1]) for k in keys], "pagination": info}


def _missing_contra_accounts() -> ApiError:
    return ApiError.bad_request(
        "Contra accounts are not mapped for every Pleo wallet currency of this company.",
        "MISSING_CONTRA_ACCOUNTS",
    )


_UNAUTHORIZED = ApiError(401, "UNAUTHORIZED", "Missing or invalid credentials.")
_CHALLENGE = {"www-authenticate": 'Bearer realm="pleo", Basic realm="pleo"'}

#: (method, path template, operationId, handler name, versions)
OPERATIONS: tuple[tuple[str, str, str, str, tuple[int, ...]], ...] = (
    ("GET", "/v{n}/export-jobs", "getExportJobsList", "list_jobs", (2, 3)),
    ("POST", "/v{n}/export-jobs", "createExportJob", "create_job", (2, 3)),
    ("GET", "/v{n}/export-jobs/{jobId}", "getExportJobById", "get_job", (2, 3)),
    ("POST", "/v{n}/export-job-events", "createExportJobEvent", "post_event", (2, 3)),
    ("GET", "/v{n}/export-jobs/{jobId}/items", "getExportJobItems", "list_job_items", (2, 3)),
    ("PUT", "/v{n}/export-jobs/{jobId}/items", "updateExportJobItems", "update_items", (2, 3)),
    ("GET", "/v{n}/export-items", "getExportItems", "list_export_items", (2, 3)),
    ("GET", "/v{n}/export-job-items", "getExportJobItemByAccountingEntryId", "get_job_item", (3,)),
    ("POST", "/v{n}/export-job-items:search", "searchExportJobItems", "search_job_items", (3,)),
)


def build_app(store: Store, credentials: Credentials, files: FileHost) -> Starlette:
    """Return the Starlette app serving the v2 and v3 operations from ``store``, and the files
    of export items from ``files`` (pre-signed: no credentials)."""
    api = _Api(store, files)

    def endpoint(
        handler: Callable[[_Call], _Result], version: int
    ) -> Callable[..., Awaitable[Response]]:
        async def run(request: Request) -> Response:
            if not credentials.accepts(request.headers.get("authorization")):
                return json_response(401, _UNAUTHORIZED.body(), _CHALLENGE)
            call = _Call(
                version=version,
                query=list(request.query_params.multi_items()),
                path=dict(request.path_params),
                body=await request.body() if request.method in ("POST", "PUT") else b"",
                base_url=str(request.base_url).rstrip("/"),
            )
            try:
                with store.lock:
                    status, payload = handler(call)
            except ApiError as exc:
                return json_response(exc.status, exc.body())
            return json_response(status, payload)

        return run

    routes = [
        Route(
            template.replace("{n}", str(version)),
            endpoint(getattr(api, handler), version),
            methods=[method],
            name=f"{operation}V{version}",
        )
        for method, template, operation, handler, versions in OPERATIONS
        for version in versions
    ]
    routes.append(Route("/files/{name}", files.serve, methods=["GET"], name=FILE_OPERATION))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return json_response(exc.status_code, {"type": kind, "message": str(exc.detail)})

    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})
