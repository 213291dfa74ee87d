"""Classification of destinations and objects from a configuration file.

A destination (an e-mail address, a domain, a URL) is ``external`` when it is outside the company domains and
``personal`` when it is a consumer mail or personal cloud domain. An object's sensitivity comes from the
source's label when it has one, else from the first matching path/site/keyword pattern.

The default configuration ships with the package (``connectors/classification.toml``); a file of your own
(TOML or JSON) replaces any list it names, and ``extra_company_domains`` / ``extra_personal_domains`` add to
the defaults (``first_patterns`` puts patterns in front of the defaults').

>>> c = Classifier.load(overrides={"company_domains": ["corp.example"]})
>>> c.classify("bob@partner.example"), c.classify("Ann@GMAIL.com"), c.classify("x@mail.corp.example")
((True, False), (True, True), (False, False))
>>> c.classify("https://www.dropbox.com/s/abc"), c.classify("gmx.de"), c.classify("")
((True, True), (True, True), (None, None))
>>> c.sensitivity(label="Highly Confidential"), c.sensitivity(text="/sites/Finance/q3.xlsx")
('restricted', 'confidential')

Destinations also fall into *categories* (``[categories.NAME]`` with ``domains`` and an optional
``url_pattern``): job search, leak sites, hacking tools and keyloggers, competitors. Rules look for them in
``attrs.category`` (a web destination) and ``attrs.recipient_categories`` (a mail's recipients).

>>> c.category_of("https://de.indeed.com/viewjob?jk=1"), c.category_of("http://wikileaks.org/x.php")
('job_search', 'leak_site')
>>> c.category_of("https://www.linkedin.com/jobs/view/42"), c.category_of("https://www.linkedin.com/feed/")
('job_search', None)
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LEVELS = ("public", "internal", "confidential", "restricted")
_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}


def default_config() -> dict[str, Any]:
    """The configuration shipped in the package."""
    text = resources.files("connectors").joinpath("classification.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def read_config(path: str | Path) -> dict[str, Any]:
    """A configuration file, TOML (``.toml``) or JSON (anything else)."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".toml":
        return tomllib.loads(text)
    return json.loads(text)


def domain_of(value: str | None) -> str | None:
    """The domain an address, URL or host names, lower-cased (``None`` when there is none).

    >>> domain_of("Ann Lee <ann@Corp.Example>"), domain_of("https://drive.google.com/x"), domain_of("CORP\\\\ann")
    ('corp.example', 'drive.google.com', None)
    """
    if not value:
        return None
    v = value.strip().strip("<>\"' ")
    if "<" in v and v.endswith(">"):
        v = v[v.rindex("<") + 1 : -1]
    if "://" in v:
        host = urlsplit(v).hostname or ""
    elif "@" in v:
        host = v.rsplit("@", 1)[1]
    elif "\\" in v or "/" in v or " " in v:
        # DOMAIN\sam, a path: no internet domain; a bare "host/path" still counts
        head = v.split("/", 1)[0]
        if "\\" in v or " " in head or "." not in head:
            return None
        host = head
    else:
        host = v
    host = host.strip().strip(".").lower().rstrip(">")
    if host.startswith("www."):
        host = host[4:]
    if not host or "." not in host or any(c in host for c in " \\<>@"):
        return None
    return host.split(":", 1)[0]


def _pattern_to_regex(pat: str) -> re.Pattern[str]:
    parts = [re.escape(p) if p != "*" else r"[a-z0-9-]+(?:\.[a-z0-9-]+)*" for p in pat.lower().split(".")]
    return re.compile(r"(?:^|.*\.)" + r"\.".join(parts) + r"$")


@dataclass
class Classifier:
    """Domain and sensitivity classification; build with :meth:`load`."""

    company_domains: frozenset[str] = frozenset()
    personal_exact: frozenset[str] = frozenset()
    personal_patterns: tuple[re.Pattern[str], ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    patterns: tuple[tuple[re.Pattern[str], str], ...] = ()
    #: ``(name, exact domains, domain patterns, url pattern or None)`` in the configuration's order.
    categories: tuple[tuple[str, frozenset[str], tuple[re.Pattern[str], ...], re.Pattern[str] | None], ...] = ()

    @classmethod
    def load(cls, path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> "Classifier":
        from schemas.presets import preset_classification  # EXITWATCH_PRESET: the industry pack, before a file

        cfg = default_config()
        preset = preset_classification()
        for extra in ([preset] if preset else []) + ([read_config(path)] if path else []) + ([overrides] if overrides else []):
            for key, value in extra.items():
                if key.startswith("extra_"):
                    base = key[len("extra_") :]
                    cfg[base] = list(cfg.get(base, [])) + list(value)
                elif key.startswith("first_"):  # put in front (patterns: the first match wins)
                    base = key[len("first_") :]
                    cfg[base] = list(value) + list(cfg.get(base, []))
                elif key in ("labels", "categories"):  # a file naming a label or category replaces that one
                    cfg[key] = {**cfg.get(key, {}), **value}
                else:
                    cfg[key] = value
        personal = [d.lower().strip() for d in cfg.get("personal_domains", [])]
        exact = frozenset(d for d in personal if "*" not in d)
        pats = tuple(_pattern_to_regex(d) for d in personal if "*" in d)
        labels = {str(k).strip().casefold(): str(v) for k, v in cfg.get("labels", {}).items()}
        for lv in labels.values():
            if lv not in _RANK:
                raise ValueError(f"classification: label maps to unknown level {lv!r}; expected one of {LEVELS}")
        patterns = []
        for p in cfg.get("patterns", []):
            if p.get("sensitivity") not in _RANK:
                raise ValueError(f"classification: pattern {p!r} needs a sensitivity out of {LEVELS}")
            patterns.append((re.compile(p["pattern"], re.IGNORECASE), p["sensitivity"]))
        cats = []
        for name, spec in (cfg.get("categories") or {}).items():
            if not isinstance(spec, dict):
                raise ValueError(f"classification: category {name!r} must be a table with 'domains' and "
                                 f"optionally 'url_pattern'")
            doms = [str(d).lower().strip() for d in spec.get("domains", [])]
            up = spec.get("url_pattern")
            cats.append((str(name), frozenset(d for d in doms if "*" not in d),
                         tuple(_pattern_to_regex(d) for d in doms if "*" in d),
                         re.compile(up, re.IGNORECASE) if up else None))
        return cls(
            categories=tuple(cats),
            company_domains=frozenset(d.lower().strip() for d in cfg.get("company_domains", [])),
            personal_exact=exact,
            personal_patterns=pats,
            labels=labels,
            patterns=tuple(patterns),
        )

    # -- domains ---------------------------------------------------------------------------------------------
    def is_personal_domain(self, domain: str) -> bool:
        d = domain
        while True:
            if d in self.personal_exact:
                return True
            if "." not in d:
                break
            d = d.split(".", 1)[1]
        return any(p.match(domain) for p in self.personal_patterns)

    def is_company_domain(self, domain: str, extra: Iterable[str] = ()) -> bool:
        for c in (*self.company_domains, *extra):
            if domain == c or domain.endswith("." + c):
                return True
        return False

    def classify(self, destination: str | None, actor: str | None = None) -> tuple[bool | None, bool | None]:
        """``(external, personal)`` of one destination; ``(None, None)`` when it names no domain.

        The acting account's own domain counts as a company domain, unless it is a personal domain.
        """
        dom = domain_of(destination)
        if dom is None:
            return None, None
        if self.is_personal_domain(dom):
            return True, True
        extra = ()
        adom = domain_of(actor) if actor and "@" in actor else None
        if adom and not self.is_personal_domain(adom):
            extra = (adom,)
        if not self.company_domains and not extra:
            return None, False
        return (not self.is_company_domain(dom, extra)), False

    def classify_many(
        self, destinations: Iterable[str], actor: str | None = None
    ) -> tuple[bool | None, bool | None]:
        """Any external / any personal over several destinations (``None`` when none could be judged)."""
        ext: bool | None = None
        per: bool | None = None
        for d in destinations:
            e, p = self.classify(d, actor)
            if e is not None:
                ext = bool(ext) or e
            if p is not None:
                per = bool(per) or p
        return ext, per

    def category_of(self, value: str | None) -> str | None:
        """The first category whose domains (or a parent domain) or URL pattern match ``value`` (an address,
        a URL or a domain); ``None`` when none does."""
        if not value or not self.categories:
            return None
        dom = domain_of(value)
        for name, exact, pats, url in self.categories:
            if dom is not None:
                d = dom
                while True:
                    if d in exact:
                        return name
                    if "." not in d:
                        break
                    d = d.split(".", 1)[1]
                if any(p.match(dom) for p in pats):
                    return name
            if url is not None and url.search(value):
                return name
        return None

    # -- sensitivity -----------------------------------------------------------------------------------------
    def label_level(self, label: str | None) -> str | None:
        if not label:
            return None
        key = str(label).strip().casefold()
        if key in self.labels:
            return self.labels[key]
        if key in _RANK:
            return key
        # "Confidential\\Finance", "Highly Confidential - All Employees": the best known prefix
        best = None
        for name, lvl in self.labels.items():
            if key.startswith(name) and (best is None or len(name) > len(best[0])):
                best = (name, lvl)
        return best[1] if best else None

    def sensitivity(self, label: str | None = None, text: str | None = None, *more: str | None) -> str | None:
        """The level of a source label if it names one, else of the first pattern matching ``text``."""
        lvl = self.label_level(label)
        if lvl:
            return lvl
        for t in (text, *more):
            if not t:
                continue
            for rx, level in self.patterns:
                if rx.search(t):
                    return level
        return None
