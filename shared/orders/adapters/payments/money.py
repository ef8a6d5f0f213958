"""Provider amounts → integer minor units of the currency (never through floats)."""

from __future__ import annotations

# ISO 4217 minor-unit exponents that are not 2 (the providers' currencies that differ).
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def from_fraction(value: int, per_unit: int, currency: str) -> int | None:
    """``value`` in 1/``per_unit`` of a currency unit → minor units; None if it is not a whole number of them."""
    scaled = value * 10 ** exponent(currency)
    if scaled % per_unit:
        return None
    return int(scaled // per_unit)


def from_milliunits(value: int, currency: str) -> int | None:
    """Apple prices are in milliunits (1000 = one unit of the currency)."""
    return from_fraction(value, 1000, currency)


def from_micros(value: int, currency: str) -> int | None:
    """Google prices are in micros (1,000,000 = one unit of the currency)."""
    return from_fraction(value, 1_000_000, currency)
