"""Where a mail went, decided again where the detectors read it: is a recipient personal?

Connectors mark a mail ``personal`` at ingest from the classification config (``connectors/classification.toml``,
a consumer-mail domain, or an address that evidently names the sender: :func:`connectors.classification.own_address`).
A source that ran with an older or narrower list, or a connector that cannot tell, delivers ``personal`` false or
unset for mail to a private address (``yuki.miller87@t-online.de``), and then no personal-mail rule sees it. The
engine therefore asks the same classification again for every mail that does not arrive as personal
(:func:`annotate`): a recipient on a consumer domain, or the sender's own address elsewhere, makes it
``personal`` (and ``external``), with ``attrs.personal_by = "detector"`` saying who decided. It never turns a
personal mail into a business one (the source may know better, e.g. an address HR lists as the employee's own).

The worker reads the same configuration as the connectors (``EXITWATCH_CLASSIFICATION_CONFIG``, and the
industry preset's ``[classification]``).

>>> from detectors.examples import ev
>>> from schemas import ActivityEvent
>>> e = ActivityEvent.model_validate(ev("2026-03-02T10:00:00Z", kind="email", action="send", actor="y.miller@corp.example",
...                                     recipients=["yuki.miller87@t-online.de"], personal=False, external=True))
>>> a = annotate(e); a.personal, a.attrs["personal_by"]
(True, 'detector')
>>> annotate(e.model_copy(update={"recipients": ["bob@corp.example"]})).personal
False
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from connectors.classification import domain_of, own_address
from schemas import ActivityEvent

log = logging.getLogger(__name__)

#: Recipients looked at per mail: a mailing to hundreds is no mail home.
MAX_RECIPIENTS = 50

_classifier: Any = None


def classifier() -> Any:
    """The classification the connectors use (loaded once): the shipped lists, the preset, and the file named by
    ``EXITWATCH_CLASSIFICATION_CONFIG``; a file that cannot be read is reported and the shipped lists used."""
    global _classifier
    if _classifier is None:
        from connectors.classification import Classifier

        path = None
        try:
            from schemas.settings import Settings

            path = Settings().classification_config
        except Exception:  # noqa: BLE001 - settings are optional for the detectors
            path = None
        try:
            _classifier = Classifier.load(path)
        except Exception as exc:  # noqa: BLE001
            log.error("classification config %r could not be read (%s); fix it or unset "
                      "EXITWATCH_CLASSIFICATION_CONFIG; using the shipped lists", path, exc)
            _classifier = Classifier.load()
    return _classifier


def reset() -> None:
    """Forget the loaded classification (tests, a changed configuration)."""
    global _classifier
    _classifier = None
    _by_recipient.cache_clear()
    _sender_domain.cache_clear()
    _own.cache_clear()


#: What a recipient alone says (:func:`_by_recipient`): personal whoever sends; personal only if it spells the
#: sender's name (an address outside the company domains); never personal.
PERSONAL, IF_OWN, NOT_PERSONAL = 2, 1, 0


@lru_cache(maxsize=65536)
def _by_recipient(recipient: str) -> tuple[int, str | None]:
    """The part of ``Classifier.classify(recipient, actor)``'s ``personal`` that does not depend on the sender,
    and the recipient's domain, cached per recipient (a company's mail goes to far fewer recipients than
    (recipient, sender) pairs: with 10,000 employees a cache of the pairs overflowed and most mails were
    classified again)."""
    c = classifier()
    dom = domain_of(recipient)
    if dom is None:
        return NOT_PERSONAL, None
    if c.is_personal_domain(dom):
        return PERSONAL, dom
    if "@" in recipient and not c.is_company_domain(dom):
        return IF_OWN, dom
    return NOT_PERSONAL, dom


@lru_cache(maxsize=65536)
def _sender_domain(actor: str) -> str | None:
    """The sender's domain as ``classify`` takes it (None unless the account is a mail address)."""
    return domain_of(actor) if actor and "@" in actor else None


@lru_cache(maxsize=16384)
def _own(recipient: str, actor: str) -> bool:
    return own_address(recipient, actor)


def _personal(recipient: str, actor: str) -> bool:
    """``classify(recipient, actor)``'s ``personal`` as a bool (tests/detectors/test_mail_home.py holds the
    two to the same answers): a personal domain, or an address outside the company domains that is the
    sender's own (:func:`connectors.classification.own_address`, never on the sender's domain or one
    within it, or containing it: that test is made here without the pair's cache)."""
    kind, dom = _by_recipient(recipient)
    if kind != IF_OWN:
        return kind == PERSONAL
    adom = _sender_domain(actor)
    if not adom or dom == adom or dom.endswith("." + adom) or adom.endswith("." + dom):  # type: ignore[union-attr]
        return False
    return _own(recipient, actor)


def personal_recipient(event: ActivityEvent) -> str | None:
    """The first recipient of a mail that is personal by the classification, or None."""
    for r in (event.recipients or ())[:MAX_RECIPIENTS]:
        if r and _personal(r, event.actor):
            return r
    return None


def annotate(event: ActivityEvent) -> ActivityEvent:
    """The mail as the rules should read it: ``personal`` when a recipient is personal by the classification,
    though the source said false or nothing. Anything but a mail is unchanged."""
    if event.kind != "email" or event.personal is True or not event.recipients:
        return event
    if personal_recipient(event) is None:
        return event
    return event.model_copy(update={"personal": True, "external": True,
                                    "attrs": {**event.attrs, "personal_by": "detector"}})
