"""``model.behaviour_anomaly``: a day that is far from the employee's own (or their peers') normal.

How it works, per employee and UTC day:

1. **Features.** Each event adds to the open day's accumulator (:mod:`detectors.models.features`), kept in
   ``st.extra["model.behaviour_anomaly"]`` with the employee's baseline (a few hundred bytes).
2. **Baselines.** The employee's own exponentially weighted mean and variance per feature (30-day memory,
   winsorised at 3 sd), and peer baselines per ``department|role`` shared in the model object. A new employee
   is compared with a blend: own weight ``min(1, days / 14)``, peers for the rest.
3. **Deviations.** ``z = (x - mean) / sqrt(var + floor**2)`` per feature, clipped to ``[0, 6]`` and mapped to
   ``[0, 1]`` (only *more* than usual counts). The per-feature floor keeps one extra file on a quiet day from
   looking like a jump.
   Context features are down-weighted, except through the *own gate*: CRM minutes far above the employee's own
   normal (own z >= 5 with the own variance), at least twice the own recent peak and an hour more than usual
   count fully (see :meth:`BehaviourModel._gate`).
4. **Shared online model.** One :class:`river.anomaly.HalfSpaceTrees` per model instance (per worker
   partition) scores the deviation vector; its score, relative to its running mean on normal days, is blended
   with the two largest deviations into the day's anomaly score in ``[0, 1]``.
5. **Score, then learn.** The open day is scored as events arrive (when a touched feature's deviation reaches
   a new whole z level of 3 or more) so an alert comes while it happens; the day is scored again when it
   closes (the employee's first event of a later day) and only then learned, by the employee's baseline, the
   peer groups and the tree model, unless it was flagged (any alert that day) or is not learnable
   (notice, last 30 days, after departure): the baseline is protected.
6. **Alerts.** At most one per employee and day (key ``D<day>``), after warm-up (``warmup_days`` employee-days
   learned by the tree model and its first window full). Threshold and base severity depend on the departure
   status: someone not leaving needs a higher score and starts at ``low`` (``medium`` only through the
   engine's ``ratio >= 10`` step); someone departing starts at ``medium`` (``high`` when the score is very
   high), but a day whose only feature far from normal keeps the data inside (downloads, exports, deletions,
   CRM time, hours: :data:`INSIDE`) stays ``low`` unless the score is very high, the feature passed the own
   gate, or the employee has fewer than ``own_full_days`` of own history (then no rule has a baseline to judge
   it by, and the model, with its peer baselines, is what sees it). Version 2: that is its rule's to judge, with where the data went; in six generated companies such
   days of honest leavers' handover exports and clean-ups made about one honest medium+ flag per company,
   and the model caught no thief that no rule caught. Data leaving (removable media, uploads, mail out, new
   destinations) or coming from new places still starts at ``medium``. Version 3: a departing person's day on
   which nothing left the company (no outside or personal destination, no mail out, no work files to removable
   media: one's own photos and music do not count, :func:`detectors.content.personal_media`) and nothing came
   from new places is ``low`` too, however many of its features are far from normal, unless the score is very
   high: a leaver uploading their files to the team's library and tidying up on the last days. Version 2 made
   that medium or high for 14 of 51 honest leavers of two outside companies (400 employees, 100 days, seed 1).
   And an upload that stays in the company (no outside or personal destination, or one the company uses
   routinely: ``attrs.corporate_by_use``) counts as moved data, not as an upload: the ``uploads`` feature is a
   way data leaves. Version 4: that "nothing left the company" downgrade, like version 2's, only for an employee
   with ``own_full_days`` of own history: for a newcomer no rule has a baseline yet and the model, with its peer
   baselines, is what sees the day (subtle seed 1: a thief with a week of history whose CRM access spiked lost
   his only catch to version 3's downgrade). Version 5: before the notice (the 30 days before the resignation
   date count as departing, so that data gathered and taken before resigning is seen when HR news arrives) the
   own gate exempts nothing: a day far from normal only in CRM time, on which nothing left the company, is low
   there as any other inside feature (``crm.access_time_spike`` judges CRM time as it happens). Three honest
   leavers' ordinary busy CRM days weeks before they resigned were medium and high on main a63775b (outside
   companies, 400 employees, 100 days, seeds 1 and 2); every thief's gated CRM day was in the notice.
   Version 6: a day kept aside and told when HR news arrives (:meth:`BehaviourModel.on_hr`) must meet the
   conditions of a live day: besides the departing threshold, at least one feature far from normal
   (``min_top_z``). Version 5 told such days on the score alone: on main 50d7dbb (18 companies, seeds 1 and 2)
   the two medium alerts with "0 feature(s) far from normal" were such lookbacks, an honest leaver's 5 files to
   removable media 3 weeks before she resigned (flagged by nothing else) and a thief's 5 downloads from new
   folders the eve of his notice (told by other rules the next day).
   Version 7: version 4's newcomer exception (fewer than ``own_full_days`` of own history: no rule has a baseline
   yet) does not hold for CRM records exported (:data:`PEER_JUDGED`): ``crm.bulk_export_before_departure``
   judges an export against colleagues' largest single exports, which needs no own history, while the model's
   peer baseline is a daily mean (a third of a record a day). On main 50d7dbb (18 companies, seeds 1 and 2) the
   one medium+ model alert on records exported was an honest account executive's 157-record handover export with
   12 days of history (outside_b seed 2), flagged by nothing else; no thief had one.
   Version 8: for someone not leaving, "several features far from normal" (what lets a very high score through
   the engine's "ten times the normal" step to medium) counts ACTS, not features (:func:`features.acts`):
   features that one act feeds (a thumb drive filled with restricted files at night: removable copies,
   sensitive items out, megabytes moved, after-hours share) are one behaviour. Two independent acts far from
   normal on one day (say, downloads from folders never used before and copies to removable media) still
   make medium. On main 81c0c60 (27 companies, seeds 1 to 3) the five medium alerts to honest people who were
   not leaving were each one day of copies to removable media (38 to 116 files), graded low by the removable
   copy rule (team habits); three thieves not yet leaving had such a day too, each caught at medium by
   ``device.removable_copy_spike`` four to six days later. The explanation's ``n_acts`` gives the count.
   Version 9: on a departing person's last working day and the UTC day after it (the evening of the last day in
   the Americas), a day far from normal only in features of work kept inside (:data:`INSIDE`: deletions,
   megabytes moved, CRM time, downloads, hours) is ``low`` whatever the number of such features, unless the
   score is very high, a feature passed the own gate, or the person has fewer than ``own_full_days`` of history: the last day is unusual for everyone who leaves (a clean-up, one take-home upload, a last
   long CRM session), and what each act was is for the rules that know it (``file.mass_deletion_before_departure``
   tests deletions against the files the person worked with, ``web.personal_cloud_upload`` grades a first upload
   on the last day as a take-home). Data leaving (removable copies of work files, uploads, sensitive items or
   attachments out) or coming from new places among the day's top features, even short of far from normal
   (:data:`LEAVING`), keeps the grade. On main dcc21c4 (36 companies, seeds 1 to 4) the
   medium+ model alerts of the last day (or the day after) were 6 honest leavers' (5 with only deletions and
   megabytes moved far from normal: now low; 1 with only CRM time, through the own gate: unchanged) and 6 thieves', each with removable copies or
   sensitive items out among their top features (two of them had only the megabytes far from normal, their
   removable copies at z 3.98, just short: hence :data:`LEAVING` among the top features, not only the far ones;
   both were caught the same day by ``device.removable_copy_spike``).
   The explanation lists the top features with observed value, own usual and peers' usual.

The shared parts (peer baselines, the tree model, counters) are saved and restored with :meth:`state_dict` /
:meth:`load_state_dict`; the per-employee parts travel with the engine's state store. Everything is
deterministic given the order of inputs (fixed seed).
"""

from __future__ import annotations

import datetime as dt
import math
import pickle
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from river import anomaly

from detectors.content import personal_media
from detectors.context import HRView
from detectors.models import features as F
from detectors.models.baseline import DIGITS, PeerBaselines, ew_update
from detectors.rule import Finding
from detectors.state import EmployeeState

ID = "model.behaviour_anomaly"
STATE_VERSION = 1


@dataclass(frozen=True)
class ModelMeta:
    """What the engine needs of a model to emit its alerts (like a rule's declared metadata)."""

    id: str
    version: str
    severity: str
    score: float
    title: str
    description: str = ""


META = ModelMeta(
    id=ID,
    version="9",
    severity="low",
    score=60.0,
    title=(
        "Unusual day: {top_feature} {top_observed:g} against a usual {top_usual:g} "
        "(anomaly score {anomaly_score:.2f}, {n_deviating} feature(s) far from normal)"
    ),
    description=__doc__.split("\n", 1)[0] if __doc__ else "",
)


#: Features of work that keeps the data inside the company (volume of one's own files, exports, clean-ups,
#: hours): a departing person's day far from normal on one of them alone is graded low (see _finding_of).
INSIDE = frozenset({F.F_DL, F.F_SDL, F.F_DEL, F.F_SDEL, F.F_CRM, F.F_CRMT, F.F_MB, F.F_AH, F.F_PRT})


#: Features of data leaving (removable copies, uploads, sensitive items and attachments out) or coming from places
#: never used: among a day's top features, they keep a departing person's last day at its grade (version 9).
LEAVING = frozenset({F.F_USB, F.F_UP, F.F_SOUT, F.F_MAIL, F.F_NEWDIR})


#: Inside features whose rule has a reference that needs no own history: records exported from the CRM
#: (``crm.bulk_export_before_departure`` judges an export against the colleagues' largest single exports,
#: :mod:`detectors.peerlargest`). A newcomer's day far from normal only there is graded low like anyone's (v7).
PEER_JUDGED = frozenset({F.F_CRM})


def _leaves(event: Any, action: str) -> bool:
    """Whether the event takes data out of the company: work files to removable media, an upload or share to an
    outside or personal destination, a mail with attachments to outside or personal addresses."""
    if action == "copy_to_removable" or action == "share_external":
        return True
    # a destination many colleagues use routinely is the company's own (detectors.habits: github.com in a
    # software company), whatever a domain list says
    out = bool(event.personal) or (bool(event.external) and not event.attrs.get("corporate_by_use"))
    if action == "upload":
        return out
    return event.kind == "email" and out and bool(event.count)


@dataclass(frozen=True)
class BehaviourConfig:
    own_memory_days: int = 30  # forgetting of the employee's own baseline
    own_full_days: int = 14  # days of own history after which peers no longer count
    own_min_days: int = 5  # without usable peers, own days needed before scoring
    peer_memory: int = 500  # employee-days of forgetting per peer group
    peer_min_days: int = 30  # employee-days before a peer group is used
    z_clip: float = 6.0
    winsor_z: float = 3.0
    peak_decay: float = 0.96  # per learned day, of the recent peak (in log units)
    peak_z: float = 2.0  # the z given to a day equal to the recent peak
    trigger_z: int = 3  # a running day is scored when a touched feature reaches a new whole z >= this
    n_trees: int = 10
    height: int = 8
    window_size: int = 250
    seed: int = 42
    warmup_days: int = 250  # employee-days learned by the tree model before any alert
    threshold: float = 0.85  # anomaly score to alert for someone not leaving
    threshold_departing: float = 0.6  # ... for someone in notice / near the last day / on the watchlist
    strong: float = 0.92  # departing and above this: base severity high
    min_top_z: float = 4.0  # the top feature must be at least this many scales above normal
    evidence_cap: int = 8
    quarantine: float = 0.5  # a day scoring this much is learned only partly and kept for an HR lookback
    suspicious_cap: int = 3  # suspicious days kept per employee
    # Own gate: a down-weighted context feature counts fully (weight 1, z against the employee's own mean and
    # variance, not capped by the peak) when it is far above the employee's OWN normal and recent peak. Only CRM
    # minutes: records exported pass such a gate on routine marketing exports (see the README).
    gate_features: tuple[str, ...] = ("crm_minutes",)
    gate_z: float = 5.0  # z against own mean/variance (with gate_floor as the smallest scale) ...
    gate_floor: float = 0.2  # ... in log units: about 22%, for heavy users whose days vary little
    gate_peak: float = 2.0  # ... and at least this many times the own recent peak (raw units) ...
    gate_min_extra: float = 60.0  # ... and at least this much (raw units: minutes) above the own usual


@dataclass
class DayScore:
    """The scoring of one day's feature vector against a baseline."""

    score: float
    hst: float
    dev: list[float]
    z: list[float]
    w: list[float]  # effective weight per feature (1 for a feature through the own gate)
    mean: list[float]  # blended baseline (vector units)
    own_days: int
    peer_group: str | None
    peer_mean: list[float] | None


def _rnd(x: float) -> float:
    return float(f"{x:.4g}")


class BehaviourModel:
    """Learned per-employee and peer baselines plus one shared Half-Space Trees model.

    >>> m = BehaviourModel(); m.id, m.learned_days
    ('model.behaviour_anomaly', 0)
    >>> m2 = BehaviourModel(); m2.load_state_dict(m.state_dict()); m2.learned_days
    0
    """

    id = ID

    def __init__(self, config: BehaviourConfig | None = None) -> None:
        self.config = config or BehaviourConfig()
        c = self.config
        self.peers = PeerBaselines(F.N, memory=c.peer_memory, min_days=c.peer_min_days)
        self.hst = anomaly.HalfSpaceTrees(n_trees=c.n_trees, height=c.height, window_size=c.window_size, seed=c.seed)
        self.learned_days = 0  # employee-days the tree model learned
        self.hst_stats = [0, 0.0]  # n, running mean of the tree score on learned days
        self.late_events = 0
        self._gated = frozenset(F.NAMES.index(name) for name in c.gate_features)
        #: Optional ``sink(employee_id, day, DayScore | None, flagged)`` called for every closed day (evaluation).
        self.sink: Callable[[str, int, DayScore | None, bool], None] | None = None
        #: Optional list every change of the shared state is appended to, as ``[department, role, x, tree input
        #: or None, tree score]`` per learned day (the transactional worker's model log, streams/tx/models.py);
        #: :meth:`replay_learned` applies such entries again.
        self.journal: list[list[Any]] | None = None

    # ------------------------------------------------------------ persistence of the shared parts
    def state_dict(self) -> bytes:
        """The shared state (peer baselines, tree model, counters) as bytes, for the worker's checkpoint.

        Pickle, because the tree model is River's object; the blob carries a version and the config and is
        only to be loaded by the same exitwatch and River versions (after an upgrade: start empty and let the
        peers and trees rebuild from traffic, the per-employee baselines are unaffected)."""
        return pickle.dumps(
            {
                "v": STATE_VERSION,
                "config": asdict(self.config),
                "peers": self.peers.to_obj(),
                "hst": self.hst,
                "learned_days": self.learned_days,
                "hst_stats": list(self.hst_stats),
                "late_events": self.late_events,
            },
            protocol=pickle.HIGHEST_PROTOCOL,
        )

    def load_state_dict(self, data: bytes) -> None:
        o = pickle.loads(data)  # noqa: S301 - our own checkpoint, never data from the outside
        if o.get("v") != STATE_VERSION:
            raise ValueError(f"{ID}: state version {o.get('v')} is not {STATE_VERSION}")
        self.config = BehaviourConfig(**o["config"])
        self._gated = frozenset(F.NAMES.index(name) for name in self.config.gate_features)
        self.peers.load_obj(o["peers"])
        self.hst = o["hst"]
        self.learned_days = o["learned_days"]
        self.hst_stats = list(o["hst_stats"])
        self.late_events = o["late_events"]

    # ------------------------------------------------------------ engine hooks
    def observe(self, emp: str, st: EmployeeState, hr: HRView, event: Any, day: int,
                t: float) -> list[tuple[ModelMeta, Finding]]:
        s = st.extra.get(ID)
        if s is None:
            s = st.extra[ID] = self._new_state(day)
        out: list[tuple[ModelMeta, Finding]] = []
        if day != s["d"]:
            if day < s["d"]:
                self.late_events += 1  # the day was closed and learned already
                return out
            out += self._close(emp, st, s, hr)
            s["d"], s["a"], s["e"], s["s"] = day, F.new_acc(), [], 0
            s.pop("o", None)
        ts = event.ts.astimezone(dt.timezone.utc)
        action = event.action
        if action == "copy_to_removable" and personal_media(event.object):
            action = "open"  # one's own photos or music to a thumb drive: no work content moves or leaves
        elif action == "upload" and not _leaves(event, action):
            action = "copy"  # an upload to the company's own storage (a team library): moved, not gone out
        if "o" not in s and _leaves(event, action):
            s["o"] = 1  # something left the company today (see _finding_of)
        touched = F.accumulate(
            s["a"], kind=event.kind, action=action, hour=ts.hour, weekday=ts.weekday(),
            sensitivity=event.sensitivity, nbytes=event.bytes, count=event.count, duration_s=event.duration_s,
            external=event.external, personal=event.personal, destination=event.destination,
            recipients=event.recipients, obj=event.object,
            known_dirs=s["k"] if s["n"] >= self.config.own_min_days else None,
            off_hours=event.attrs.get("off_hours") is True,  # the employee's own hours (detectors.habits)
        )
        if len(touched) > 1:  # more than the after-hours share: an event worth citing
            ev = s["e"]
            ev.append([sum(1 << i for i in touched if i != F.F_AH), event.event_id])
            if len(ev) > self.config.evidence_cap:
                del ev[0]
        if s["s"] >= 0:
            out += self._check_open_day(emp, st, s, hr, touched)
        return out

    def on_hr(self, emp: str, st: EmployeeState, hr: HRView, record: Any) -> list[tuple[ModelMeta, Finding]]:
        """HR news of a departure lowers the threshold: alert on recent suspicious days kept aside that now
        cross it (a day in the 30 days before the notice counts as departing), and re-check the open day."""
        s = st.extra.get(ID)
        if s is None or not self.warmed_up():
            return []
        out: list[tuple[ModelMeta, Finding]] = []
        flagged = st.extra.get("flagged", ())
        keep = []
        for summary in s.get("q", ()):
            day, score, n_dev = summary[0], summary[1], summary[6]
            # Version 6: told under the conditions a live day is (_fires): the top feature far from normal too
            if (day not in flagged and self._departing(hr, day) and score >= self.config.threshold_departing
                    and n_dev >= 1):
                out.append(self._finding_of(summary, hr))
            else:
                keep.append(summary)
        if "q" in s:
            s["q"] = keep
        if s["s"] >= 0 and s["a"][F.A_TOT] and self._departing(hr, s["d"]):
            out += self._evaluate(emp, st, s, hr)
        return out

    def finish(self, emp: str, st: EmployeeState, hr: HRView) -> list[tuple[ModelMeta, Finding]]:
        """Close the employee's open day (end of a replay or evaluation): score it, report it to ``sink``."""
        s = st.extra.get(ID)
        if s is None:
            return []
        out = self._close(emp, st, s, hr)
        s["a"], s["e"], s["s"] = F.new_acc(), [], 0
        return out

    # ------------------------------------------------------------ per-employee state
    @staticmethod
    def _new_state(day: int) -> dict[str, Any]:
        # d: open day; a: its accumulator; e: evidence [feature, event_id]; s: open-day status (highest whole z
        # already checked, -1 once the day fired); n: own days learned; m/v: own means/variances; p: decaying
        # recent peak per feature; k: bitmap of familiar folders; q: suspicious days kept for an HR lookback.
        return {"d": day, "a": F.new_acc(), "e": [], "s": 0, "n": 0, "m": [0.0] * F.N, "v": [0.0] * F.N,
                "p": [0.0] * F.N, "k": 0}

    def _baseline(self, s: dict[str, Any], hr: HRView, lazy: bool = False) -> tuple[Any, ...] | None:
        """``(mean, var, own days, peer group, own peak, own stats)`` per feature, mean and var blended with the
        peers' while the own history is short; own stats ``(own mean, own var, own peak)`` once the own history is
        full (``own_full_days``), for the own gate; ``None`` when there is nothing to compare with. ``lazy``:
        a blended mean and var are :class:`_Blend` views that compute an element when it is read (the check of
        each event reads only the features it touched), with the same values as the lists."""
        c = self.config
        n = s["n"]
        own = (s["m"], s["v"], s["p"]) if n >= c.own_full_days else None
        peer = self.peers.lookup(hr.department, hr.role)
        if peer is None:
            if n < c.own_min_days:
                return None
            return s["m"], s["v"], n, None, s["p"], own
        w = min(1.0, n / c.own_full_days)
        peak = s["p"] if n >= c.own_min_days else None
        if w >= 1.0:
            return s["m"], s["v"], n, peer, peak, own
        mo, vo, mp, vp = s["m"], s["v"], peer[2], peer[3]
        if lazy:
            return _Blend(w, mo, mp), _Blend(w, mo, mp, vo, vp), n, peer, peak, own
        mean = [w * a + (1 - w) * b for a, b in zip(mo, mp)]
        var = [w * va + (1 - w) * vb + w * (1 - w) * (a - b) ** 2 for a, b, va, vb in zip(mo, mp, vo, vp)]
        return mean, var, n, peer, peak, own

    def _gate(self, i: int, x: float, base: tuple[Any, ...]) -> float | None:
        """The own z of feature ``i`` if it passes the own gate (see :class:`BehaviourConfig`), else ``None``.

        For context features such as CRM minutes, which are down-weighted because peers differ so much (support
        staff spend hours a day in the CRM): far above the employee's *own* normal, with their own day-to-day
        variance, and well above their own recent peak, they are what matters and count fully."""
        own = base[5]
        if own is None or i not in self._gated:
            return None
        c = self.config
        m, v, p = own[0][i], own[1][i], own[2][i]
        z = (x - m) / math.sqrt(v + c.gate_floor ** 2)
        if z < c.gate_z:
            return None
        raw = F.untransform(i, x)
        if raw < c.gate_peak * F.untransform(i, p) or raw < F.untransform(i, m) + c.gate_min_extra:
            return None
        return z

    def _z(self, i: int, x: float, base: tuple[Any, ...]) -> float:
        """Robust z of vector value ``x`` of feature ``i``: against mean and variance (with a floor on the
        scale), and, once there is own history, no more than how far ``x`` lies above the recent peak (+2 at the
        peak itself): intermittent work, such as a big export every few weeks, is normal up to that peak."""
        mean, var, peak = base[0], base[1], base[4]
        if i in self._gated:
            g = self._gate(i, x, base)
            if g is not None:
                return g
        z = (x - mean[i]) / math.sqrt(var[i] + F.SCALE_FLOOR[i] ** 2)
        if peak is not None:
            z = min(z, (x - peak[i]) / F.SCALE_FLOOR[i] + self.config.peak_z)
        return z

    def _departing(self, hr: HRView, day: int) -> bool:
        """The lower threshold and higher base severity apply: notice, the 30 days before the last day or the
        notice, after the last day, watchlist (which the engine's grading steps up once more)."""
        if hr.departing(day, 30) or hr.watchlist or hr.after_departure(day):
            return True
        return hr.leaving and hr.notice_from is not None and hr.notice_from - 30 <= day <= hr.notice_from

    # ------------------------------------------------------------ scoring
    def _score(self, x: list[float], base: tuple[Any, ...]) -> DayScore:
        c = self.config
        mean, n, peer = base[0], base[2], base[3]
        z = [self._z(i, x[i], base) for i in range(F.N)]
        w = list(F.WEIGHT)
        for i in self._gated:
            if self._gate(i, x[i], base) is not None:
                w[i] = 1.0
        dev = [min(max(zi, 0.0), c.z_clip) / c.z_clip for zi in z]
        h = float(self.hst.score_one(dict(zip(F.NAMES, dev))))
        hm = self.hst_stats[1]
        h_rel = min(1.0, max(0.0, (h - hm) / max(1e-6, 1.0 - hm))) if self.hst_stats[0] else 0.0
        top = sorted((d * wi for d, wi in zip(dev, w)), reverse=True)
        s_dev = 0.8 * top[0] + 0.2 * top[1]
        score = 0.75 * s_dev + 0.25 * h_rel
        return DayScore(score=round(score, 4), hst=round(h, 4), dev=dev, z=z, w=w, mean=mean, own_days=n,
                        peer_group=peer[0] if peer else None, peer_mean=peer[2] if peer else None)

    def warmed_up(self) -> bool:
        return self.learned_days >= self.config.warmup_days and not self.hst._first_window

    def _fires(self, sc: DayScore, hr: HRView, day: int) -> bool:
        c = self.config
        if not self.warmed_up():
            return False
        thr = c.threshold_departing if self._departing(hr, day) else c.threshold
        return sc.score >= thr and max(sc.z) >= c.min_top_z

    def _check_open_day(self, emp: str, st: EmployeeState, s: dict[str, Any], hr: HRView,
                        touched: list[int]) -> list[tuple[ModelMeta, Finding]]:
        """Score the running day when a touched feature reaches a new whole z level (>= trigger_z)."""
        c = self.config
        if not self.warmed_up():
            return []
        base = self._baseline(s, hr, lazy=True)
        if base is None:
            return []
        acc = s["a"]
        cap = int(c.z_clip)
        if not any(self._z(i, F.transform(i, F.raw(acc, i)), base) >= c.trigger_z for i in touched if i != F.F_AH):
            return []
        # Sum of whole z levels (>= trigger) over all features: rises when any feature climbs a level.
        level = 0
        for i in range(F.N):
            zi = self._z(i, F.transform(i, F.raw(acc, i)), base)
            if zi >= c.trigger_z:
                level += min(int(zi), cap)
        if level <= s["s"]:
            return []
        s["s"] = level
        return self._evaluate(emp, st, s, hr)

    def _evaluate(self, emp: str, st: EmployeeState, s: dict[str, Any], hr: HRView,
                  base: tuple[Any, ...] | None = None) -> list[tuple[ModelMeta, Finding]]:
        base = base or self._baseline(s, hr)
        if base is None:
            return []
        sc = self._score(F.vector(s["a"]), base)
        if not self._fires(sc, hr, s["d"]):
            return []
        s["s"] = -1
        return [self._finding(s, sc, hr)]

    def _close(self, emp: str, st: EmployeeState, s: dict[str, Any], hr: HRView) -> list[tuple[ModelMeta, Finding]]:
        """Score the open day one last time, then learn it if it is normal and learnable."""
        day, acc = s["d"], s["a"]
        if acc[F.A_TOT] == 0:
            return []
        x = F.vector(acc)
        base = self._baseline(s, hr)
        out: list[tuple[ModelMeta, Finding]] = []
        sc = self._score(x, base) if base is not None else None
        if sc is not None and s["s"] >= 0 and self._fires(sc, hr, day):
            s["s"] = -1
            out.append(self._finding(s, sc, hr))
        flagged = s["s"] < 0 or day in st.extra.get("flagged", ())
        if self.sink is not None:
            self.sink(emp, day, sc, flagged)
        if flagged or not hr.learnable(day):
            return out
        suspicious = sc is not None and sc.score >= self.config.quarantine
        if suspicious:
            # Not alarming enough today, but kept aside (and out of peak, peers and trees) in case HR news
            # makes it so: the pre-resignation collection of data.
            q = s.setdefault("q", [])
            summary = self._summary(s, sc)  # type: ignore[arg-type]
            summary[7] = summary[7][-3:]  # three evidence ids are enough to start from, and keep the state small
            q.append(summary)
            del q[: -self.config.suspicious_cap]
        self._learn(s, hr, x, sc, full=not suspicious)
        if not suspicious:
            s["k"] |= acc[F.A_DIRS]
        return out

    def _learn(self, s: dict[str, Any], hr: HRView, x: list[float], sc: DayScore | None, full: bool = True) -> None:
        """Fold a normal day into the own mean and variance (winsorised) and, if ``full``, into the own recent
        peak, the peer groups and the tree model. A suspicious day only moves the winsorised mean and variance,
        so a lasting change of work is learned slowly while a burst never becomes the new normal."""
        c = self.config
        n = s["n"]
        clip = None
        if n >= c.own_min_days:
            clip = [s["m"][i] + c.winsor_z * math.sqrt(s["v"][i] + F.SCALE_FLOOR[i] ** 2) for i in range(F.N)]
        s["n"] = n + 1
        ew_update(s["m"], s["v"], x, s["n"], c.own_memory_days, clip)
        if not full:
            return
        s["p"] = [round(max(xi, pi * c.peak_decay), DIGITS) for xi, pi in zip(x, s["p"])]
        self._learn_shared(hr.department, hr.role, x, None if sc is None else sc.dev, 0.0 if sc is None else sc.hst)

    def _learn_shared(self, department: str | None, role: str | None, x: list[float], dev: list[float] | None,
                      hst: float) -> None:
        """A normal day into the peer groups and, once scored, the tree model: the only change of the shared
        state besides counters (journaled when :attr:`journal` is set)."""
        if self.journal is not None:
            self.journal.append([department, role, x, dev, hst])
        self.peers.learn(department, role, x)
        if dev is not None:
            self.hst.learn_one(dict(zip(F.NAMES, dev)))
            self.learned_days += 1
            hs = self.hst_stats
            if hst > 0:  # 0 until the first window is full
                hs[0] += 1
                hs[1] = round(hs[1] + (hst - hs[1]) / min(hs[0], 1000), DIGITS)

    def replay_learned(self, entries: list[list[Any]]) -> None:
        """Apply journaled changes (:attr:`journal`) again, in order, to a state loaded from before them."""
        journal, self.journal = self.journal, None
        try:
            for department, role, x, dev, hst in entries:
                self._learn_shared(department, role, x, dev, hst)
        finally:
            self.journal = journal

    # ------------------------------------------------------------ alert
    def _summary(self, s: dict[str, Any], sc: DayScore) -> list[Any]:
        """A day's verdict in a compact, JSON-friendly form: ``[day, score, tree score, own days, peer group,
        top features as [index, observed, usual own, usual peers, usual blended, z], n deviating, evidence]``,
        then, if any, the indices of the top features that passed the own gate. Kept in the employee state for
        suspicious days that did not alert (see :meth:`on_hr`)."""
        c = self.config
        acc = s["a"]
        order = sorted(range(F.N), key=lambda i: (-sc.z[i] * sc.w[i], i))
        top = [i for i in order[:3] if sc.z[i] >= 2.0] or order[:1]
        tf = [[i, _rnd(F.raw(acc, i)),
               _rnd(F.untransform(i, s["m"][i])) if s["n"] else None,
               _rnd(F.untransform(i, sc.peer_mean[i])) if sc.peer_mean is not None else None,
               _rnd(F.untransform(i, sc.mean[i])), round(sc.z[i], 2)] for i in top]
        wanted = sum(1 << i for i in top)
        evidence = [eid for f, eid in s["e"] if f & wanted] or [eid for _, eid in s["e"]]
        out = [s["d"], sc.score, sc.hst, sc.own_days, sc.peer_group, tf,
               sum(1 for z in sc.z if z >= c.min_top_z), evidence]
        gated = [i for i in top if sc.w[i] > F.WEIGHT[i]]
        left = "o" in s or bool(acc[F.F_USB] or acc[F.F_MAIL] or acc[F.F_SOUT])
        if gated or not left:
            out.append(gated)
        if not left:
            out.append(0)  # nothing left the company that day
        return out

    def _finding(self, s: dict[str, Any], sc: DayScore, hr: HRView) -> tuple[ModelMeta, Finding]:
        n_acts = F.acts({i for i, z in enumerate(sc.z) if z >= self.config.min_top_z})
        return self._finding_of(self._summary(s, sc), hr, n_acts)

    def _finding_of(self, summary: list[Any], hr: HRView, n_acts: int | None = None) -> tuple[ModelMeta, Finding]:
        """The alert of a day's verdict (:meth:`_summary`). ``n_acts``: the distinct acts among the features far
        from normal (:func:`features.acts`); a summary kept in the state has only its top features, which
        give a lower bound."""
        c = self.config
        day, score, hst, own_days, peer_group, top, n_dev, evidence = summary[:8]
        gated = summary[8] if len(summary) > 8 else []
        stayed = len(summary) > 9 and summary[9] == 0  # nothing left the company that day
        if n_acts is None:
            n_acts = F.acts({t[0] for t in top if t[5] >= c.min_top_z})
        tf = [{"feature": F.NAMES[i], "observed": obs, "usual_own": own, "usual_peers": peer,
               "usual_blended": blend, "z": z, "unit": F.UNITS[i]} for i, obs, own, peer, blend, z in top]
        i0, obs, usual = top[0][0], top[0][1], top[0][4]
        p = F.RATIO_PSEUDO[i0]
        top_ratio = (obs + p) / (max(usual, 0.0) + p)
        departing = self._departing(hr, day)
        ratio: float | None = top_ratio
        far = {t[0] for t in top if t[5] >= c.min_top_z}  # the top features far from normal
        dtl = hr.days_to_last_day(day)
        last_days = dtl is not None and -1 <= dtl <= 0  # the last working day or the UTC day after it
        if departing:
            severity = "high" if score >= c.strong else "medium"
            # Version 5: before the notice (the 30 days before it count as departing, for data gathered and taken
            # before resigning) the own gate exempts nothing: time in the CRM is not data gathered or taken.
            before_notice = hr.notice_from is not None and day < hr.notice_from
            exempt = [] if before_notice else gated
            if (score < c.strong and n_dev < 2 and i0 in INSIDE and i0 not in exempt
                    and (own_days >= c.own_full_days or i0 in PEER_JUDGED)):
                # One behaviour far from normal that keeps the data inside (a handover export, a clean-up, a
                # day of downloads) is its rule's to judge, with where the data went: the model tells it, low.
                severity, ratio = "low", None
            elif (score < c.strong and stayed and not exempt and own_days >= c.own_full_days
                  and F.F_NEWDIR not in {t[0] for t in top}):
                # Version 3: a day on which nothing left the company (no outside or personal destination, no mail
                # out, no work files to removable media) and nothing came from new places: a leaver moving their
                # files to the team's library, tidying up: its rules judge it, the model tells it, low.
                severity, ratio = "low", None
            elif (score < c.strong and last_days and 0 < n_dev == len(far) and far <= INSIDE and not exempt
                  and own_days >= c.own_full_days and not LEAVING & {t[0] for t in top}):
                # Version 9: the last working day (and the evening after it, a UTC day later for the Americas) is
                # unusual for everyone who leaves: a clean-up, a take-home, a last long session. When all that is
                # far from normal is work kept inside (deletions, megabytes moved, CRM time...: INSIDE), the rules
                # that know what each act was judge it (file.mass_deletion_before_departure with the person's own
                # files, web.personal_cloud_upload's take-home, the exit rules); the model tells it, low.
                severity, ratio = "low", None
        else:
            # Someone not leaving: low, and the engine's "ten times the normal" step up to medium only with strong
            # evidence (a very high score and several acts far from normal at once; v8: acts, not features).
            severity = "low"
            if score < c.strong or n_acts < 2:
                ratio = None
        return replace(META, severity=severity), Finding(
            key=f"D{day}",
            observed=obs,
            evidence=list(evidence),
            window_start=day,
            window_end=day,
            threshold=c.threshold_departing if departing else c.threshold,
            baseline={"mean": usual, "own_mean": tf[0]["usual_own"], "peer_mean": tf[0]["usual_peers"],
                      "days": own_days},
            ratio=ratio,
            day=day,
            extra={
                "top_feature": tf[0]["feature"],
                "top_observed": obs,
                "top_usual": usual,
                "top_ratio": round(top_ratio, 2),
                "top_features": tf,
                "anomaly_score": score,
                "tree_score": hst,
                "n_deviating": n_dev,
                "n_acts": n_acts,  # distinct acts among the features far from normal (version 8)
                "own_days": own_days,
                "peer_group": peer_group,
                # features that counted fully because they were far above the employee's own normal and peak
                "own_gate": [F.NAMES[i] for i in gated],
            },
        )


class _Blend:
    """The blend of own and peer means (or, given the variances too, variances) with own weight ``w``, element
    ``i`` computed when read, by the same expression as the lists of :meth:`BehaviourModel._baseline`.

    >>> m = _Blend(0.25, [1.0, 2.0], [3.0, 6.0])
    >>> [m[0], m[1]], _Blend(0.25, [1.0], [3.0], [1.0], [2.0])[0]
    ([2.5, 5.0], 2.5)
    """

    __slots__ = ("w", "mo", "mp", "vo", "vp")

    def __init__(self, w: float, mo: list[float], mp: list[float], vo: list[float] | None = None,
                 vp: list[float] | None = None) -> None:
        self.w, self.mo, self.mp, self.vo, self.vp = w, mo, mp, vo, vp

    def __getitem__(self, i: int) -> float:
        w, a, b = self.w, self.mo[i], self.mp[i]
        if self.vo is None:
            return w * a + (1 - w) * b
        return w * self.vo[i] + (1 - w) * self.vp[i] + w * (1 - w) * (a - b) ** 2  # type: ignore[index]
