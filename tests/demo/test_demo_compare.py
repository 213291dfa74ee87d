"""The demo's comparison with replay (``exitwatch.demo.compare``): every message of every alert id.

The seventh session's demo printed "58 streamed, 60 in replay" for the model, risk and HR-side alerts while the
worker had sent exactly replay's messages: the demo kept the first message of each id (58 ids) and set that
against replay's message count (60: two offboarding reminders are updated once, repeating their ids). The
comparison is now by id and each id's messages in order, for both feeds.
"""

from __future__ import annotations

from exitwatch.demo import compare


def _a(aid: str, rule: str, severity: str = "medium", score: float = 60.0) -> dict:
    return {"alert_id": aid, "rule_id": rule, "severity": severity, "score": score}


REPLAY = [_a("r1", "file.mass_deletion_before_departure", "critical", 100.0),
          _a("o1", "offboarding.open_handover"), _a("o2", "offboarding.customers_not_handed_over", score=65.0),
          _a("o1", "offboarding.open_handover"), _a("o2", "offboarding.customers_not_handed_over", score=65.0),
          _a("k1", "risk.employee", "high", 80.0)]


def test_every_message_streamed_as_replay_is_the_same_even_with_repeated_ids() -> None:
    r = compare(REPLAY, list(REPLAY))
    assert r["same_as_replay"] and r["alerts_replay"] == r["alerts_streamed"] == 4
    assert r["messages_replay"] == r["messages_streamed"] == 6
    # the old count: ids streamed (4) against replay's messages (6) looked like 2 missing
    assert len({a["alert_id"] for a in REPLAY}) != len(REPLAY)


def test_a_missing_update_an_extra_alert_and_another_score_are_each_reported() -> None:
    streamed = [m for i, m in enumerate(REPLAY) if i != 3]  # o1's update not sent
    streamed[-1] = {**streamed[-1], "score": 81.0}  # k1 with another score
    streamed.append(_a("x9", "model.behaviour_anomaly", "low", 40.0))
    r = compare(REPLAY, streamed)
    assert not r["same_as_replay"]
    assert r["missing"] == [] and r["extra"] == ["x9"] and r["different_versions"] == ["k1", "o1"]
    assert r["by_rule_not_equal"] == {"model.behaviour_anomaly": 1, "risk.employee": 1, "offboarding.open_handover": 1}


def test_an_update_in_another_order_is_not_the_same() -> None:
    replay = [_a("a", "r", "low", 30.0), _a("a", "r", "high", 80.0)]
    assert not compare(replay, list(reversed(replay)))["same_as_replay"]
    assert compare(replay, replay[:1])["different_versions"] == ["a"]
    assert compare(replay, [])["missing"] == ["a"]
