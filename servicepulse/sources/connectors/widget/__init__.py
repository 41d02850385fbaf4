"""The first-party "report a problem" widget: an embeddable form on the organisation's own pages (portal,
VLE, intranet) where a person picks a service and what is wrong. Each counted report is a mention tagged
by the reporter to the chosen service (`raw.service_id`), at most one per person per service per hour.
"""

from __future__ import annotations

from typing import ClassVar

from servicepulse.sources.connectors.widget.wording import FormLanguage
from servicepulse.sources.registry import Connector, OptionSpec, OptionType, register


@register
class WidgetConnector(Connector):
    kind: ClassVar[str] = "widget"
    description: ClassVar[str] = (
        'Report-a-problem widget: embed <script src="/sources/widget/<name>/embed.js"> on your own pages; '
        "people pick a service and a problem type; one report per person per service per hour is counted."
    )
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec(
            "allowed_origins",
            "Sites that may embed the form, e.g. https://portal.example.ac.uk (comma-separated)",
        ),
        OptionSpec(
            "rate_limit_per_hour",
            "Reports accepted per address per hour (loading the form may happen ten times as often); "
            "a campus behind one shared address shares it",
            default=300,
            type=OptionType.INTEGER,
            minimum=1,
            maximum=1_000_000,
        ),
        OptionSpec(
            "public_services_only",
            "Offer only services shown on the public status page",
            default=True,
            type=OptionType.BOOLEAN,
        ),
        OptionSpec(
            "language",
            "Language of the form and of everything it says to people: en (English), cy (Cymraeg) or both "
            "(bilingual, Welsh first); reports are stored the same in each",
            default=FormLanguage.ENGLISH.value,
            choices=tuple(language.value for language in FormLanguage),
        ),
        OptionSpec("title", "Heading of the form (default: Report a problem, in the form's language)"),
        OptionSpec(
            "privacy_url",
            "Your privacy notice, linked under the form beside what a report keeps (an http(s) address)",
        ),
    )
    can_pull: ClassVar[bool] = False
