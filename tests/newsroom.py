"""A small newsroom we wrote for the query-surface tests: syndicated copies, dates spread
over days, weeks and months, several outlets and domains, and an article with markup."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from newssearch import Article

UTC = timezone.utc
NOW = datetime(2025, 8, 13, 12, 0, tzinfo=UTC)

_WIRE = (
    "Engineers reopened the Tarnveld suspension bridge on Tuesday after a nine-month repair "
    "that replaced every cable and the worn deck plates. The regional transport office said "
    "traffic would be limited to cars for the first week while inspectors check the new "
    "expansion joints, and that lorries would return once the load tests are signed off. "
    "Shop owners on both banks welcomed the reopening, saying trade had fallen by a third "
    "since the closure forced drivers onto a ferry crossing twenty kilometres upstream."
)


def newsroom() -> list[Article]:
    """Fourteen articles; ids are fixed so tests can name them."""
    arts = [
        # one wire story and two syndicated copies with small edits (dateline, last sentence)
        Article(id="wire-1", title="Tarnveld bridge reopens after nine-month repair", body=_WIRE,
                source="Northern Wire", published=NOW - timedelta(hours=3),
                url="https://wire.example.com/2025/08/tarnveld-bridge", lang="en"),
        Article(id="copy-1", title="Tarnveld bridge reopens after nine-month repair",
                body="TARNVELD (Northern Wire) - " + _WIRE, source="Valley Herald",
                published=NOW - timedelta(hours=2), url="https://www.valleyherald.example.org/tarnveld-bridge", lang="en"),
        Article(id="copy-2", title="Tarnveld bridge reopens after long repair",
                body=_WIRE.replace("twenty kilometres upstream.", "twenty kilometres upstream, the office added."),
                source="Coastal Times", published=NOW - timedelta(hours=1),
                url="https://news.coastal.example.net/bridge-reopens", lang="en"),
        # a different story that mentions the bridge: related, not a copy
        Article(id="toll-1", title="Tarnveld council debates a toll for the repaired bridge",
                body="Councillors in Tarnveld argued on Monday over a toll to pay for the bridge repair. "
                "The transport office said the cable work cost more than planned and lorries add wear to the deck.",
                source="Valley Herald", published=NOW - timedelta(days=1), url="https://valleyherald.example.org/toll", lang="en"),
        Article(id="harbour-1", title="Harbour workers strike over night shifts",
                body="Dock workers in Port Elira walked out on Monday. The strike closed three berths and the "
                "union said the night shifts were unsafe.", source="Coastal Times",
                published=NOW - timedelta(days=2), url="https://news.coastal.example.net/harbour-strike", lang="en"),
        Article(id="harbour-2", title="Ferry crews join the harbour strike",
                body="Ferry crews joined the dock workers' strike in Port Elira, leaving islanders without a "
                "morning crossing.", source="Northern Wire", published=NOW - timedelta(days=9),
                url="https://wire.example.com/2025/08/ferry-crews", lang="en"),
        Article(id="election-1", title="Election officials count postal ballots",
                body="Election officials in the province began counting postal ballots; the electoral "
                "commission expects a result by Friday.", source="Northern Wire",
                published=NOW - timedelta(days=40), url="https://wire.example.com/2025/07/ballots", lang="en"),
        Article(id="elector-1", title="Electors queue in the rain",
                body="Electors queued for hours in the rain outside polling stations in the capital.",
                source="Valley Herald", published=NOW - timedelta(days=41),
                url="https://valleyherald.example.org/queues", lang="en"),
        Article(id="goita-1", title="General Goïta addresses the nation",
                body="Mali's leader, General Assimi Goïta, spoke on state television about the transition.",
                source="Sahel Daily", published=NOW - timedelta(days=5), url="https://saheldaily.example.com/goita", lang="en"),
        Article(id="markup-1", title="Web page shows <script> tags in the lantern festival listing",
                body='The lantern festival page printed <script>alert("x")</script> and a stray &amp; in its '
                "listing, organisers said, before the lantern schedule was fixed.",
                source="Valley Herald", published=NOW - timedelta(days=70), url="https://valleyherald.example.org/lantern-page", lang="en"),
        Article(id="undated-1", title="Lantern makers prepare paper and wire",
                body="Lantern makers in the old town cut paper and bend wire for the festival.",
                source="Sahel Daily", published=None, lang="en"),
        Article(id="he-1", title="הגשר נפתח מחדש", body="הגשר בטרנוולד נפתח מחדש אחרי תשעה חודשי תיקונים.",
                source="Valley Herald", published=NOW - timedelta(days=3), lang="he"),
        Article(id="coup-1", title="Soldiers held over alleged coup plot",
                body="Several officers were detained over an alleged coup plot against the transitional government.",
                source="Sahel Daily", published=NOW - timedelta(days=6), url="https://saheldaily.example.com/coup", lang="en"),
        Article(id="coup-2", title="Coup rumours spread in the capital",
                body="Rumours of a coup spread after soldiers were seen near the radio station; the army denied any plot.",
                source="Northern Wire", published=NOW - timedelta(days=6, hours=2),
                url="https://wire.example.com/2025/08/coup-rumours", lang="en"),
    ]
    return arts
