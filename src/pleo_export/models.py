"""The data types the SDK hands out and accepts, re-exported so user code never imports the
generated ``pleo_export_raw`` package: ``from pleo_export.models import ExportJobV3``.

These are the generated attrs classes and open string enums themselves (not copies), so
``isinstance`` checks and ``UpdateExportJobItemV3(...)`` work as the docs show. An enum value
this SDK's spec does not list still parses, as a member with ``is_known == False``; to *send*
such a value, build it explicitly: ``ExportJobStatus("archived")``.

Names load on first use (PEP 562), so ``import pleo_export.models`` costs nothing until then.
Covered: jobs, job items, export items and item updates of v3 (the default) and v2, every model
and enum nested in them, ``PageOrder``, and ``UNSET``/``Unset`` for fields a response left out.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pleo_export_raw.models import (
        AccountV2,
        AccountV3,
        BookkeepingMethodV2,
        BookkeepingMethodV3,
        BookkeepingV2,
        BookkeepingV3,
        ContraAccount,
        CountryCode,
        ExportItemAdditionalInformationV2,
        ExportItemAdditionalInformationV3,
        ExportItemAmount,
        ExportItemAmountV3,
        ExportItemFile,
        ExportItemLineAmountV3,
        ExportItemLineV2,
        ExportItemLineV3,
        ExportItemNetAmountV3,
        ExportItemSubTypeV3,
        ExportItemTypeV3,
        ExportItemUserV2,
        ExportItemUserV3,
        ExportItemV2,
        ExportItemV2Type,
        ExportItemV3,
        ExportJob,
        ExportJobEventType,
        ExportJobFailureReasonType,
        ExportJobItem,
        ExportJobItemFailureReasonType,
        ExportJobItemFailureReasonTypeV2,
        ExportJobItemStatus,
        ExportJobItemUpdate,
        ExportJobItemUpdateError,
        ExportJobItemUpdateErrorType,
        ExportJobItemUpdateErrorV3,
        ExportJobItemUpdateV3,
        ExportJobItemV3,
        ExportJobStatus,
        ExportJobV3,
        InvoiceInformationStatusV3,
        InvoiceInformationV2,
        InvoiceInformationV2Status,
        InvoiceInformationV3,
        LinksResponse,
        LinksResponseApi,
        LinksResponseMobile,
        LinksResponseWeb,
        MoneyModel,
        MoneyModelCurrency,
        PageOrder,
        ServicePeriodV2,
        ServicePeriodV3,
        SupplierBankAccount,
        SupplierV2,
        SupplierV3,
        TagV2,
        TagV3,
        TaxAmountV3,
        TaxTypeV3,
        TaxV2,
        TaxV2Type,
        TaxV3,
        TeamV2,
        TeamV3,
        UpdateExportJobItem,
        UpdateExportJobItemStatus,
        UpdateExportJobItemV3,
        VendorV2,
        VendorV3,
    )
    from pleo_export_raw.types import UNSET, Unset

__all__ = [
    "UNSET",
    "AccountV2",
    "AccountV3",
    "BookkeepingMethodV2",
    "BookkeepingMethodV3",
    "BookkeepingV2",
    "BookkeepingV3",
    "ContraAccount",
    "CountryCode",
    "ExportItemAdditionalInformationV2",
    "ExportItemAdditionalInformationV3",
    "ExportItemAmount",
    "ExportItemAmountV3",
    "ExportItemFile",
    "ExportItemLineAmountV3",
    "ExportItemLineV2",
    "ExportItemLineV3",
    "ExportItemNetAmountV3",
    "ExportItemSubTypeV3",
    "ExportItemTypeV3",
    "ExportItemUserV2",
    "ExportItemUserV3",
    "ExportItemV2",
    "ExportItemV2Type",
    "ExportItemV3",
    "ExportJob",
    "ExportJobEventType",
    "ExportJobFailureReasonType",
    "ExportJobItem",
    "ExportJobItemFailureReasonType",
    "ExportJobItemFailureReasonTypeV2",
    "ExportJobItemStatus",
    "ExportJobItemUpdate",
    "ExportJobItemUpdateError",
    "ExportJobItemUpdateErrorType",
    "ExportJobItemUpdateErrorV3",
    "ExportJobItemUpdateV3",
    "ExportJobItemV3",
    "ExportJobStatus",
    "ExportJobV3",
    "InvoiceInformationStatusV3",
    "InvoiceInformationV2",
    "InvoiceInformationV2Status",
    "InvoiceInformationV3",
    "LinksResponse",
    "LinksResponseApi",
    "LinksResponseMobile",
    "LinksResponseWeb",
    "MoneyModel",
    "MoneyModelCurrency",
    "PageOrder",
    "ServicePeriodV2",
    "ServicePeriodV3",
    "SupplierBankAccount",
    "SupplierV2",
    "SupplierV3",
    "TagV2",
    "TagV3",
    "TaxAmountV3",
    "TaxTypeV3",
    "TaxV2",
    "TaxV2Type",
    "TaxV3",
    "TeamV2",
    "TeamV3",
    "Unset",
    "UpdateExportJobItem",
    "UpdateExportJobItemStatus",
    "UpdateExportJobItemV3",
    "VendorV2",
    "VendorV3",
]

#: Where each name lives in the generated package (``pleo_export_raw.models`` unless listed).
_SOURCES: dict[str, str] = {"UNSET": "pleo_export_raw.types", "Unset": "pleo_export_raw.types"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(_SOURCES.get(name, "pleo_export_raw.models"))
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
