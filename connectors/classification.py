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
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
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


@lru_cache(maxsize=65536)
def _name_parts(local: str) -> tuple[str, ...]:
    """The letter runs of an address's local part, lower-cased, accents dropped ("Jörg.Meyer-2" -> jorg, meyer);
    cached: a sender's own name is taken apart again for every recipient outside the company it mails."""
    plain = unicodedata.normalize("NFKD", local.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return tuple(re.findall(r"[a-z]+", plain))


def _joins(parts: Sequence[str], s: str, rest_first: bool = True) -> list[int] | None:
    """How ``s`` splits into the parts' beginnings one after another, each at least one letter (the lengths:
    "karlmor" for karl, moreau is [4, 3]; "jsmith" for john, smith is [1, 5]); None when it does not."""
    if not parts:
        return [] if not s else None
    head, rest = parts[0], parts[1:]
    for k in range(min(len(head), len(s)), 0, -1):
        if k == 1 and rest_first is False:
            break  # only the first part may be an initial: "tomasz" is not tomas + z of "tomasz.z"
        if rest_first and 1 < k < len(head):
            continue  # the first part whole or its initial: "valentina" is not valenti + na of valentina.nair
        if head[:k] == s[:k]:
            tail = _joins(rest, s[k:], False)
            if tail is not None:
                return [k, *tail]
    return None


def _common(a: Sequence[str], r: Sequence[str]) -> list[int] | None:
    """The letters two names share, part by part (``a`` the sender's account, ``r`` the recipient's local
    part): token by token when both have as many parts, each naming the other's beginning (an initial, a
    shortened name), or one side written as one word of the other's beginnings; None when they differ."""
    if len(a) == len(r):
        if all(x.startswith(y) or y.startswith(x) for x, y in zip(a, r)):
            return [min(len(x), len(y)) for x, y in zip(a, r)]
        return None
    if len(r) == 1:
        return _joins(a, r[0])
    if len(a) == 1:
        return _joins(r, a[0])
    return None


def own_address(recipient: str | None, actor: str | None) -> bool:
    """Whether ``recipient`` is evidently the sender's own address elsewhere: both are mail addresses on
    different domains, and the recipient's local part spells the sender's name as the sender's own account does
    (digits and separators aside, in either order, with initials or shortened names on either side), with at
    least five letters of the name in common, three of them in one part.

    >>> own_address("yuki.miller87@t-online.de", "y.miller@corp.example")
    True
    >>> own_address("karlmor80@gmail.com", "KARL.MOREAU@CORP.EXAMPLE"), own_address("miller.yuki@home.example", "yuki.miller@corp.example")
    (True, True)
    >>> own_address("yuki.miller@corp.example", "y.miller@corp.example"), own_address("amil@partner.example", "a.miller@corp.example")
    (False, False)
    >>> own_address("jan.kowalski@partner.example", "y.miller@corp.example"), own_address("ann@x.example", "CORP\\\\ann")
    (False, False)
    """
    if not recipient or not actor or "@" not in recipient or "@" not in actor:
        return False
    r_dom, a_dom = domain_of(recipient), domain_of(actor)
    if not r_dom or not a_dom or r_dom == a_dom or r_dom.endswith("." + a_dom) or a_dom.endswith("." + r_dom):
        return False
    r_local = recipient.strip().rsplit("@", 1)[0].rsplit("<", 1)[-1]
    a, r = _name_parts(actor.strip().rsplit("@", 1)[0]), _name_parts(r_local)
    if not a or not r:
        return False
    for order in (a, a[::-1]) if len(a) > 1 else (a,):
        common = _common(order, r)
        # two parts of a name at least: a first name alone (freya@partner for freya@corp) names nobody
        if common and len(common) >= 2 and sum(common) >= 5 and max(common) >= 3:
            return True
    return False


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

        The acting account's own domain counts as a company domain, unless it is a personal domain. An address
        outside the company domains that evidently names the sender (:func:`own_address`) is personal, whatever
        its domain: ``y.miller@corp.example`` mailing ``yuki.miller87@miller-family.example``.
        """
        dom = domain_of(destination)
        if dom is None:
            return None, None
        if self.is_personal_domain(dom):
            return True, True
        extra = ()
        adom = domain_of(actor) if actor and "@" in actor else None
        if adom and "@" in (destination or "") and not self.is_company_domain(dom) and own_address(destination, actor):
            return True, True
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
