"""No float on money or rates: the generated models read amounts as ints of minor units and
rates as exact Decimals, refuse anything else as ResponseValidationError through the seam (with
orjson or json decoding), and write both back exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import attrs
import httpx
import orjson
import pytest

import pleo_export.models as models
from pleo_export import ResponseValidationError
from pleo_export._wire._parse import parse
from pleo_export.models import ExportItemV3, MoneyModel, TaxV3
from pleo_export.testing._catalogue import build_catalogue
from pleo_export.testing._data import build_export_item

URL = "http://127.0.0.1:9/v3/export-items"


def _item() -> dict[str, Any]:
    """A fake card purchase with an inclusive tax on its first line."""
    catalogue = build_catalogue(1, "8f5c6a36-0f44-4b4e-a1a8-5c2b1f9d7e01", "DK")
    for number in range(1000):
        item = build_export_item(
            catalogue, 1, f"{number:08x}-1c2d-4e5f-8a9b-0c1d2e3f4a5b", version=3, vendor_based=False
        )
        if item["type"] == "card_purchase" and item["accountingEntryLines"][0]["tax"]:
            return item
    raise AssertionError("no taxed card purchase")


def _parse(body: bytes) -> ExportItemV3:
    response = httpx.Response(200, content=body, request=httpx.Request("GET", URL))
    parsed: ExportItemV3 = parse(response, ExportItemV3)
    return parsed


def test_no_model_users_receive_declares_a_float() -> None:
    """Walks every model of ``pleo_export.models``: fails if any field (money, rate or other)
    is typed ``float``, as ``MoneyModel.value`` and every tax ``rate`` were."""
    floats = [
        f"{name}.{field.name}: {field.type}"
        for name in models.__all__
        if attrs.has(cls := getattr(models, name))
        for field in attrs.fields(cls)
        if "float" in str(field.type)
    ]
    assert floats == []
    assert attrs.fields(MoneyModel).value.type == "int"
    assert attrs.fields(TaxV3).rate.type == "Decimal"


def test_amounts_are_ints_and_rates_decimals_and_round_trip_exactly() -> None:
    """Fails if an amount comes out a float, a rate a float or an inexact Decimal, or
    ``to_dict`` does not give back the JSON the model was read from."""
    data = _item()
    item = _parse(orjson.dumps(data))
    assert type(item.amount.in_wallet_currency.value) is int
    tax = item.accounting_entry_lines[0].tax
    assert isinstance(tax, TaxV3)
    assert tax.rate == Decimal(str(data["accountingEntryLines"][0]["tax"]["rate"]))
    assert type(tax.rate) is Decimal
    written = item.to_dict()  # (dates come back in another ISO spelling; amounts must not)
    assert written["amount"] == data["amount"]
    for ours, theirs in zip(
        written["accountingEntryLines"], data["accountingEntryLines"], strict=True
    ):
        for key in ("lineAmount", "netAmount", "tax"):
            assert ours[key] == theirs[key]
    assert ExportItemV3.from_dict(written) == item


@pytest.mark.parametrize("loads", [json.loads, orjson.loads], ids=["json", "orjson"])
@pytest.mark.parametrize("value", ["896.96", "89696.00000000001", "89696.0", '"89696"', "true"])
def test_an_amount_that_is_not_a_json_integer_is_a_validation_error(loads: Any, value: str) -> None:
    """Fails if 89696.00000000001 (or 896.96, or a whole float, a string, a bool) is taken as
    an amount, with either decoder, instead of a ResponseValidationError naming the problem."""
    body = orjson.dumps(_item()).replace(b'"value":', b'"value":' + value.encode() + b',"x":', 1)
    assert loads(body)  # the body is JSON for both decoders
    with pytest.raises(ResponseValidationError, match="expected a JSON integer") as caught:
        _parse(body)
    assert "ExportItemV3" in str(caught.value)


def test_an_amount_nested_in_a_nullable_tax_is_checked_too() -> None:
    """Fails if a bad tax amount slips through as a raw dict (the generator's union fallback)."""
    data = _item()
    data["accountingEntryLines"][0]["tax"]["amount"]["inWalletCurrency"]["value"] = 1.5
    with pytest.raises(ResponseValidationError):
        _parse(orjson.dumps(data))


@pytest.mark.parametrize("rate", ["0.1", "0.25", "0.135", "1e-7", "0", "1"])
def test_a_rate_is_the_decimal_the_json_says(rate: str) -> None:
    """0.1 is Decimal('0.1'), not Decimal(0.1) = 0.1000000000000000055…; fails on any drift."""
    body = orjson.dumps(_item()).replace(b'"rate":', b'"rate":' + rate.encode() + b',"x":', 1)
    tax = _parse(body).accounting_entry_lines[0].tax
    assert isinstance(tax, TaxV3)
    assert tax.rate == Decimal(rate)
    assert TaxV3.from_dict(tax.to_dict()).rate == Decimal(rate)


@pytest.mark.parametrize("rate", ["0.30000000000000004", "0.12345678901234567", '"0.25"', "null"])
def test_a_rate_no_short_decimal_text_gives_is_refused(rate: str) -> None:
    """A float that needs more than 15 significant digits is not knowably what the JSON said
    (float arithmetic, or digits lost in decoding): fails if it becomes a Decimal anyway."""
    body = orjson.dumps(_item()).replace(b'"rate":', b'"rate":' + rate.encode() + b',"x":', 1)
    with pytest.raises(ResponseValidationError):
        _parse(body)
