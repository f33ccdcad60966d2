"""The users table: tier-weighted customers grouped into companies.

Split in two: `UserPopulation` holds the numeric facts every request block needs (tier and
region of each user), drawn with numpy only; `users_table` adds Faker's names, companies and
emails, which only the users table itself needs.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

import numpy as np
import pyarrow as pa
from faker import Faker

from llmtelemetry.generator.catalogue import Catalogue, load_catalogue, resolve
from llmtelemetry.generator.config import GenerateConfig
from llmtelemetry.generator.schema import USERS
from llmtelemetry.generator.seeding import USERS_STREAM, faker_seed, stream_rng

FAKER_PROVIDERS = ["faker.providers.person", "faker.providers.company"]
_LEGAL_SUFFIXES = frozenset(
    "inc llc ltd plc group gmbh ag kg co and sa sarl sas bv nv ab pty limited corp corporation und "
    "e et y cie ltda me s a son sons mbh ohg gbr kgaa partners pvt".split()
)


@dataclasses.dataclass(frozen=True)
class UserPopulation:
    """Per-user numeric attributes, index i is user_id i + 1."""

    tier: np.ndarray  # index into catalogue.tiers
    company: np.ndarray  # index into companies
    signup_offset_days: np.ndarray  # days before the period start
    company_country: np.ndarray  # index into catalogue.countries, per company
    company_industry: np.ndarray  # index into catalogue.company["industries"], per company
    company_size: np.ndarray  # index into catalogue.company["sizes"], per company
    request_cdf: np.ndarray  # cumulative request weight per user, ending at 1

    @property
    def country(self) -> np.ndarray:
        return np.asarray(self.company_country[self.company])


def allocate_exactly(shares: np.ndarray, total: int) -> np.ndarray:
    """Split `total` into integer counts proportional to `shares` (largest remainder)."""
    ideal = shares / shares.sum() * total
    counts = np.floor(ideal).astype(np.int64)
    short = total - int(counts.sum())
    order = np.argsort(-(ideal - counts), kind="stable")
    counts[order[:short]] += 1
    return np.asarray(counts)


def draw_population(config: GenerateConfig, catalogue: Catalogue | None = None) -> UserPopulation:
    """Draw the user population of a config (numpy only, fast, deterministic)."""
    cat = catalogue or load_catalogue()
    resolved = resolve(config, cat)
    rng = stream_rng(config.seed, USERS_STREAM)
    n = config.users

    counts = allocate_exactly(resolved.tier_mix, n)
    tier = rng.permutation(np.repeat(np.arange(len(cat.tiers), dtype=np.int8), counts))

    n_companies = max(1, round(n / float(cat.company["users_per_company"])))
    zipf = 1.0 / np.arange(1, n_companies + 1) ** float(cat.company["zipf_exponent"])
    company = np.searchsorted(np.cumsum(zipf / zipf.sum()), rng.random(n), side="right")
    company = np.minimum(company, n_companies - 1).astype(np.int32)

    country_weights = np.array([c.weight for c in cat.countries], dtype=np.float64)
    company_country = _categorical(rng, country_weights, n_companies)
    company_industry = rng.integers(0, len(cat.company["industries"]), n_companies)
    headcount = np.bincount(company, minlength=n_companies)
    jitter = rng.integers(0, 2, n_companies)
    size_levels = len(cat.company["sizes"])
    company_size = np.minimum(np.floor(np.log2(np.maximum(headcount, 1))).astype(np.int64) + jitter, size_levels - 1)
    signup = rng.integers(1, int(cat.company["signup_window_days"]) + 1, n)

    weights = resolved.tier_weights[tier]
    if weights.sum() <= 0:
        weights = np.ones(n)
    cdf = np.cumsum(weights / weights.sum())
    cdf[-1] = 1.0
    return UserPopulation(tier, company, signup, company_country, company_industry, company_size, cdf)


def _categorical(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    cdf = np.cumsum(weights / weights.sum())
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(weights) - 1)


def users_table(config: GenerateConfig, population: UserPopulation | None = None) -> pa.Table:
    """The full users table, with Faker names seeded from the config's seed."""
    cat = load_catalogue()
    pop = population or draw_population(config, cat)
    n_companies = pop.company_country.size
    countries = cat.countries

    company_names: list[str] = [""] * n_companies
    domains: list[str] = [""] * n_companies
    full_names: list[str] = [""] * config.users
    emails: list[str] = [""] * config.users
    taken_names: set[str] = set()
    taken_domains: set[str] = set()
    taken_emails: set[str] = set()
    user_country = pop.country

    # One Faker per locale, each seeded from the config's seed; companies and users are
    # visited in id order within a locale, so the output does not depend on dict or set order.
    locales = sorted({c.locale for c in countries})
    for index, locale in enumerate(locales):
        fake = _faker(locale)
        fake.seed_instance(faker_seed(config.seed, index))
        local_countries = [i for i, c in enumerate(countries) if c.locale == locale]
        for k in np.flatnonzero(np.isin(pop.company_country, local_countries)):
            name = _unique(fake.company, taken_names)
            company_names[k] = name
            tld = countries[pop.company_country[k]].tld
            domains[k] = _unique_slug(_slug(name, drop_legal=True) or "company", tld, taken_domains)
        for u in np.flatnonzero(np.isin(user_country, local_countries)):
            first, last = fake.first_name(), fake.last_name()
            full_names[u] = f"{first} {last}"
            local = ".".join(p for p in (_slug(first, sep=""), _slug(last, sep="")) if p) or "user"
            emails[u] = _unique_email(local, domains[pop.company[u]], taken_emails)

    start = np.datetime64(config.start, "D")
    industries = np.array(cat.company["industries"], dtype=object)
    sizes = np.array(cat.company["sizes"], dtype=object)
    codes = np.array([c.country_code for c in countries], dtype=object)
    tiers = np.array(cat.tiers, dtype=object)
    company = pop.company
    columns = [
        pa.array(np.arange(1, config.users + 1, dtype=np.int32)),
        pa.array(full_names, pa.string()),
        pa.array(emails, pa.string()),
        pa.array(company_names, pa.string()).take(pa.array(company)),
        pa.array(domains, pa.string()).take(pa.array(company)),
        pa.array(industries[pop.company_industry][company].tolist(), pa.string()),
        pa.array(sizes[pop.company_size][company].tolist(), pa.string()),
        pa.array(codes[user_country].tolist(), pa.string()),
        pa.array(tiers[pop.tier].tolist(), pa.string()),
        pa.array(start - pop.signup_offset_days.astype("timedelta64[D]"), pa.date32()),
    ]
    return pa.Table.from_arrays(columns, schema=USERS)


def _faker(locale: str) -> Faker:
    """Faker for `locale` with only the providers we use, drawing names uniformly.

    Frequency weighting makes each name ~30x slower to draw and building every provider costs
    more than drawing a dataset's names; neither matters to the data's realism here.
    """
    return Faker(locale, providers=FAKER_PROVIDERS, use_weighting=False)


def _unique(draw: object, taken: set[str]) -> str:
    assert callable(draw)
    for _ in range(20):
        value = str(draw())
        if value not in taken:
            taken.add(value)
            return value
    k = 2
    while f"{value} {k}" in taken:
        k += 1
    taken.add(f"{value} {k}")
    return f"{value} {k}"


def _slug(text: str, *, sep: str = "-", drop_legal: bool = False) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    if drop_legal:
        words = [w for w in words if w not in _LEGAL_SUFFIXES] or words
    return sep.join(words)


def _unique_slug(stem: str, tld: str, taken: set[str]) -> str:
    candidate, k = f"{stem}.{tld}", 2
    while candidate in taken:
        candidate, k = f"{stem}{k}.{tld}", k + 1
    taken.add(candidate)
    return candidate


def _unique_email(local: str, domain: str, taken: set[str]) -> str:
    candidate, k = f"{local}@{domain}", 2
    while candidate in taken:
        candidate, k = f"{local}{k}@{domain}", k + 1
    taken.add(candidate)
    return candidate
