"""Each spam rule alone, and the decision table."""
from __future__ import annotations

import pytest

from comments import sanitize
from comments.spam import RULES, Candidate, Facts, Policy, assess


def candidate(text: str = "A thoughtful comment about the article.", **overrides) -> Candidate:
    values = {"text": text, "html": sanitize.render(text), "name": "Ann", "email": None,
              "website": None, "honeypot": None, "elapsed": 30.0, "token": "ok"}
    values.update(overrides)
    return Candidate(**values)


def signals(c: Candidate, facts: Facts | None = None, policy: Policy | None = None) -> dict[str, int]:
    verdict = assess(c, facts or Facts(), policy or Policy())
    return {s.rule: s.score for s in verdict.signals}


def test_a_plain_comment_raises_nothing() -> None:
    verdict = assess(candidate(), Facts(), Policy())
    assert (verdict.action, verdict.score, verdict.signals) == ("publish", 0, ())


def test_honeypot() -> None:
    assert signals(candidate(honeypot="http://buy.example")) == {"honeypot": 10}
    assert signals(candidate(honeypot="")) == {}


@pytest.mark.parametrize(("token", "elapsed", "score"), [
    ("missing", None, 1), ("invalid", None, 3), ("ok", 0.4, 5), ("ok", 2.9, 5), ("ok", 3.0, None),
])
def test_timing(token: str, elapsed: float | None, score: int | None) -> None:
    found = signals(candidate(token=token, elapsed=elapsed))
    assert found.get("timing") == score


def test_timing_reason_says_how_fast() -> None:
    verdict = assess(candidate(elapsed=0.4), Facts(), Policy())
    assert "0.4 s after the form loaded" in verdict.reasons[0]


def test_links_over_the_site_limit() -> None:
    text = "see https://a.example https://b.example https://c.example https://d.example"
    assert signals(candidate(text)) == {"links": 4}
    assert signals(candidate(text), policy=Policy(max_links=5)) == {}
    verdict = assess(candidate(text), Facts(), Policy())
    assert verdict.reasons == ["4 links (the site allows 2)"]


def test_blocked_words_match_whole_words_in_text_and_name() -> None:
    policy = Policy(blocked_words=("casino", "viagra"))
    assert signals(candidate("Best CASINO in town"), policy=policy) == {"blocked_words": 5}
    assert signals(candidate("hi", name="viagra seller"), policy=policy) == {"blocked_words": 5}
    assert signals(candidate("occasional casinos"), policy=policy) == {}


def test_blocked_domains_in_links_and_website() -> None:
    policy = Policy(blocked_domains=("spam.example",))
    assert signals(candidate("go to https://www.spam.example/x"), policy=policy) == {"blocked_domains": 10}
    assert signals(candidate(website="https://spam.example"), policy=policy) == {"blocked_domains": 10}
    assert signals(candidate("https://notspam.example"), policy=policy) == {}


def test_duplicates() -> None:
    assert signals(candidate(), Facts(same_text_by_author=1)) == {"duplicates": 4}
    assert signals(candidate(), Facts(same_text_threads=2)) == {"duplicates": 6}
    assert signals(candidate(), Facts(same_text_threads=1)) == {}


def test_shouting_and_repeats() -> None:
    assert signals(candidate("THIS IS THE WORST ARTICLE EVER WRITTEN")) == {"shouting": 2}
    assert signals(candidate("NASA and the EU agreed on a plan today.")) == {}
    assert signals(candidate("nooooooooooooo way")) == {"repeats": 2}
    assert signals(candidate("no way!!!")) == {}


def test_banned_link_and_first_time() -> None:
    found = assess(candidate(), Facts(banned_link="reader key"), Policy())
    assert found.reasons == ["posted from the reader key of a banned author"] and found.score == 8
    assert signals(candidate(), Facts(first_time=True)) == {}
    assert signals(candidate(), Facts(first_time=True), Policy(hold_first_time=True)) == {"first_time": 4}


def test_every_rule_is_exercised_above() -> None:
    names = {rule.__name__ for rule in RULES}
    assert names == {"honeypot", "timing", "links", "blocked_words", "blocked_domains",
                     "duplicates", "shouting", "repeats", "banned", "first_time"}


@pytest.mark.parametrize(("score_from", "action"), [
    ({}, "publish"), ({"token": "invalid"}, "publish"),
    ({"elapsed": 1.0}, "hold"), ({"honeypot": "x"}, "spam"),
    ({"elapsed": 1.0, "token": "ok", "text": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "spam"),
])
def test_decision_table(score_from: dict, action: str) -> None:
    assert assess(candidate(**score_from), Facts(), Policy()).action == action


def test_thresholds_are_the_sites() -> None:
    c = candidate(elapsed=1.0)
    assert assess(c, Facts(), Policy(hold_score=6, spam_score=9)).action == "publish"
    assert assess(c, Facts(), Policy(hold_score=2, spam_score=5)).action == "spam"


def test_verdict_json_keeps_every_rule_score() -> None:
    verdict = assess(candidate(elapsed=1.0, honeypot="x"), Facts(), Policy())
    assert verdict.as_json() == {"action": "spam", "score": 15, "signals": [
        {"rule": "honeypot", "score": 10, "reason": verdict.reasons[0]},
        {"rule": "timing", "score": 5, "reason": verdict.reasons[1]}]}
