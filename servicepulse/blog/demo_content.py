"""The demo university's blog: the CIO's weekly posts around the demo's planted incidents, with comments.

Times are (week offset from the Monday of the demo's end, weekday, local time), as the demo generator counts
them. The generator already produces the blog channel's chatter as mentions, so these comments are not sent
to mentions again.
"""

from __future__ import annotations

from datetime import time
from typing import Any

DEMO_POSTS: list[dict[str, Any]] = [
    {
        "key": "welcome",
        "when": (-6, 2, time(10, 0)),
        "title": "A new term, and a new way of listening",
        "tags": ["Listening", "Service desk"],
        "body": (
            "Welcome back. This term we are trying something different: instead of waiting for tickets, "
            "we are **listening** to what you say about our services wherever you say it — the student "
            "Facebook page, Reddit, Mastodon, Bluesky, the *Report a problem* button in the portal, and the "
            "comments here.\n\nEvery Wednesday I will write here about what we heard and what we did. Tell "
            "me where we fall short."
        ),
        "comments": [
            (
                "Sam Okafor",
                "sam.okafor@students.northgate.example",
                "Does this mean someone actually reads the "
                "Facebook page? Because the printers in the library have been broken since September.",
                None,
            ),
            (
                "Helen Morrow",
                "h.morrow@northgate.example",
                "Yes, we read it. The library printers are on this "
                "week's list; I will report back next Wednesday.",
                0,
            ),
        ],
    },
    {
        "key": "wifi-hopkins",
        "when": (-4, 2, time(10, 0)),
        "title": "Wi-Fi in the Hopkins Building: what went wrong",
        "tags": ["Wi-Fi", "Incidents"],
        "body": (
            "Two weeks ago the Wi-Fi in the Hopkins Building got slowly worse over a morning until it barely "
            "worked. A wireless controller was failing. Your posts named the building hours before our "
            "monitoring noticed anything — thank you.\n\n"
            "## What we changed\n\n- The controller is replaced, with a spare on site.\n"
            "- We now alert on complaints that name a building, not only on outages."
        ),
        "comments": [
            (
                "Priya N.",
                "priya.n@staff.northgate.example",
                "It is much better now on the second floor. Still patchy in H3.12 during lectures though.",
                None,
            ),
            (
                "Dev Patel",
                "d.patel@northgate.example",
                "Thanks Priya, we have added an access point survey for the third floor.",
                0,
            ),
        ],
    },
    {
        "key": "email-outage",
        "when": (-3, 2, time(10, 0)),
        "title": "Tuesday's e-mail outage",
        "tags": ["E-mail", "Incidents"],
        "body": (
            "On Tuesday morning student and staff e-mail was unavailable for about two and a half hours. "
            "An expired certificate on the mail gateway was the cause. We now renew certificates "
            "automatically and check them every day, and the [status page](/status/) showed the outage "
            "within minutes."
        ),
        "comments": [
            (
                "Jordan Lee",
                "j.lee@students.northgate.example",
                "I missed a seminar room change because of "
                "this. Will there be a way to get alerts by e-mail... when e-mail is down?",
                None,
            ),
            (
                "Helen Morrow",
                "h.morrow@northgate.example",
                "Fair point, Jordan. The status page also has an "
                "Atom feed, and we are looking at SMS for major outages.",
                0,
            ),
            ("Jordan Lee", "j.lee@students.northgate.example", "The feed works for me, thanks.", 1),
        ],
    },
    {
        "key": "vle-deadline",
        "when": (0, 2, time(10, 0)),
        "fallback": (0, 0, time(10, 0)),
        "title": "What the VLE outage on deadline night taught us",
        "tags": ["VLE", "Incidents"],
        "body": (
            "On Sunday night, two hours before the coursework deadline, the VLE stopped accepting "
            "submissions. Many of you told us on the student Facebook page before our monitoring did.\n\n"
            "Extensions of 48 hours were granted automatically to everyone affected. We are adding capacity "
            "before the next deadline and will run a load test with the students' union."
        ),
        "comments": [
            (
                "Sam Okafor",
                "sam.okafor@students.northgate.example",
                "Appreciate the honesty. Does the automatic extension apply to group submissions too?",
                None,
            ),
            ("Helen Morrow", "h.morrow@northgate.example", "Yes — group submissions too.", 0),
        ],
    },
]

DEMO_SCHEDULED: dict[str, Any] = {
    "key": "email-migration",
    "days_after_end": 2,
    "title": "Next: moving student e-mail",
    "tags": ["E-mail"],
    "body": "Notes for the post on the student e-mail migration: dates, what changes, what you need to do.",
}
