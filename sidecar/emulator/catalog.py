"""Static reference data: assets, fiat currencies, starting rates and balances.

Rates are synthetic except where a real capture exists (see ``_OBSERVED_RATES``);
they only need to be plausible and internally consistent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Literal

Network = Literal["mainnet", "testnet"]


@dataclass(frozen=True, slots=True)
class Asset:
    code: str
    name: str
    url: str
    decimals: int
    is_blockchain: bool
    is_stablecoin: bool
    usd_price: Decimal


@dataclass(frozen=True, slots=True)
class Fiat:
    code: str
    name: str
    per_usd: Decimal


def _asset(code: str, name: str, url: str, decimals: int, blockchain: bool, price: str) -> Asset:
    stable = code in {"USDT", "USDC"}
    return Asset(code, name, url, decimals, blockchain, stable, Decimal(price))


# Documented assets first, then a few seen live (SEND appears in real balances).
ASSETS: Final[tuple[Asset, ...]] = (
    _asset("USDT", "Tether", "https://tether.to/", 18, False, "0.99955478"),
    _asset("TON", "Toncoin", "https://ton.org/", 9, True, "5.69015273"),
    _asset("BTC", "Bitcoin", "https://bitcoin.org/", 8, True, "97012.45"),
    _asset("ETH", "Ethereum", "https://ethereum.org/", 18, True, "3402.17"),
    _asset("LTC", "Litecoin", "https://litecoin.org/", 8, True, "101.33"),
    _asset("BNB", "Binance Coin", "https://www.bnbchain.org/", 18, True, "651.42"),
    _asset("TRX", "TRON", "https://tron.network/", 6, True, "0.2517"),
    _asset("USDC", "USD Coin", "https://www.circle.com/usdc", 18, False, "0.99991234"),
    _asset("SOL", "Solana", "https://solana.com/", 9, True, "181.06"),
    _asset("DOGE", "Dogecoin", "https://dogecoin.com/", 8, True, "0.2604"),
    _asset("NOT", "Notcoin", "https://notco.in/", 9, True, "0.00723"),
    _asset("SEND", "Send", "https://send.tg/", 9, True, "0.4512"),
)
ASSET_CODES: Final = frozenset(a.code for a in ASSETS)
ASSETS_BY_CODE: Final = MappingProxyType({a.code: a for a in ASSETS})

FIATS: Final[tuple[Fiat, ...]] = tuple(
    Fiat(code, name, Decimal(per_usd))
    for code, name, per_usd in (
        ("USD", "US Dollar", "1"),
        ("EUR", "Euro", "0.9213"),
        ("RUB", "Russian Ruble", "80.55684731"),
        ("BYN", "Belarusian Ruble", "3.2714"),
        ("UAH", "Ukrainian Hryvnia", "41.32"),
        ("GBP", "British Pound", "0.7862"),
        ("CNY", "Chinese Yuan", "7.2419"),
        ("KZT", "Kazakhstani Tenge", "521.7"),
        ("UZS", "Uzbekistani Som", "12641.5"),
        ("GEL", "Georgian Lari", "2.7051"),
        ("TRY", "Turkish Lira", "40.912"),
        ("AMD", "Armenian Dram", "387.4"),
        ("THB", "Thai Baht", "32.61"),
        ("INR", "Indian Rupee", "86.12"),
        ("BRL", "Brazilian Real", "5.491"),
        ("IDR", "Indonesian Rupiah", "16321"),
        ("AZN", "Azerbaijani Manat", "1.7"),
        ("AED", "UAE Dirham", "3.6725"),
        ("PLN", "Polish Zloty", "3.718"),
        ("ILS", "Israeli Shekel", "3.412"),
        ("KGS", "Kyrgyzstani Som", "87.45"),
        ("TJS", "Tajikistani Somoni", "9.412"),
    )
)
FIAT_CODES: Final = frozenset(f.code for f in FIATS)

# Values copied from real captures (fixtures), so tests can compare against them.
_OBSERVED_RATES: Final = MappingProxyType(
    {
        ("TON", "USD"): Decimal("5.69015273"),
        ("USDT", "USD"): Decimal("0.99955478"),
        ("USDT", "RUB"): Decimal("80.52098473"),
    }
)

# Assets the platform can swap a payment into (v1.5.1).
SWAP_TARGETS: Final = frozenset({"USDT", "TON", "TRX", "ETH", "SOL", "BTC", "LTC"})

PAID_BUTTON_NAMES: Final = frozenset({"viewItem", "openChannel", "openBot", "callback"})

STARTING_BALANCES: Final = MappingProxyType(
    {
        "USDT": Decimal("1000"),
        "TON": Decimal("1000"),
        "BTC": Decimal("1"),
        "ETH": Decimal("10"),
        "LTC": Decimal("100"),
        "BNB": Decimal("10"),
        "TRX": Decimal("10000"),
        "USDC": Decimal("1000"),
        "SOL": Decimal("0"),
        "DOGE": Decimal("0"),
        "NOT": Decimal("0"),
        "SEND": Decimal("0"),
    }
)


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    source: str
    target: str
    rate: Decimal
    is_valid: bool = True
    is_crypto: bool = True
    is_fiat: bool = False


def starting_rates() -> list[ExchangeRate]:
    """Every asset against every fiat, plus each non-USD fiat against USD.

    Fiat sources exist because the live API returns them (cryptobot_python 1.1.0).
    """
    rates: list[ExchangeRate] = []
    for asset in ASSETS:
        for fiat in FIATS:
            observed = _OBSERVED_RATES.get((asset.code, fiat.code))
            value = observed or (asset.usd_price * fiat.per_usd).quantize(Decimal("1e-8"))
            rates.append(ExchangeRate(asset.code, fiat.code, value.normalize()))
    for fiat in FIATS:
        if fiat.code != "USD":
            value = (Decimal(1) / fiat.per_usd).quantize(Decimal("1e-8")).normalize()
            rates.append(ExchangeRate(fiat.code, "USD", value, is_crypto=False, is_fiat=True))
    return rates


@dataclass(frozen=True, slots=True)
class Links:
    """Per-network URL shapes. Real shapes change over time; clients must not parse them."""

    bot_username: str
    web_app_base: str

    def bot_url(self, hash_: str) -> str:
        return f"https://t.me/{self.bot_username}?start={hash_}"

    def mini_app_url(self, hash_: str) -> str:
        return f"https://t.me/{self.bot_username}/app?startapp=invoice-{hash_}&mode=compact"

    def web_app_url(self, hash_: str) -> str:
        return f"{self.web_app_base}/invoices/{hash_}"


LINKS: Final = MappingProxyType(
    {
        "mainnet": Links("CryptoBot", "https://app.cr.bot"),
        "testnet": Links("CryptoTestnetBot", "https://testnet-app.send.tg"),
    }
)
