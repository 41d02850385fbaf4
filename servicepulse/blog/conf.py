"""Blog settings. Each is a Django setting when present (tests override those), else an environment variable
read through `get_env`; see README's configuration table."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from servicepulse.config.env import get_env, str_to_bool, str_to_list

DEFAULTS: dict[str, tuple[Any, Any]] = {
    # name: (default, cast)
    "SERVICEPULSE_BLOG_THREAD_DEPTH": (5, int),
    "SERVICEPULSE_BLOG_CLOSE_COMMENTS_DAYS": (0, int),  # 0: posts keep comments open unless the post says
    "SERVICEPULSE_BLOG_EDIT_MINUTES": (15, int),
    "SERVICEPULSE_BLOG_MAX_LINKS": (2, int),  # WordPress's comment_max_links: this many links or more holds
    "SERVICEPULSE_BLOG_MIN_FILL_SECONDS": (3, int),
    "SERVICEPULSE_BLOG_RATE_LIMIT": (5, int),  # comments per address per window
    "SERVICEPULSE_BLOG_RATE_WINDOW_SECONDS": (600, int),
    "SERVICEPULSE_BLOG_SPAM_THRESHOLD": (0.8, float),
    "SERVICEPULSE_BLOG_MODERATOR_EMAILS": ([], str_to_list),
    "SERVICEPULSE_BLOG_FIRST_TIME_HOLD": (True, str_to_bool),
    "SERVICEPULSE_BLOG_FETCH_MAX_BYTES": (1_000_000, int),
    "SERVICEPULSE_BLOG_FETCH_TIMEOUT": (10.0, float),
    "SERVICEPULSE_AKISMET_KEY": ("", str),
    # Commenters' IP addresses and browsers are kept this long (rate limits, spam reports to Akismet when a
    # moderator changes their mind), then forgotten every night; 0 keeps them for ever.
    "SERVICEPULSE_BLOG_IP_RETENTION_DAYS": (60, int),
    # Spam and trashed comments, the log of received Webmentions and never-confirmed reply subscriptions are
    # deleted this long after (WordPress empties its trash after 30 days); 0 keeps them for ever.
    "SERVICEPULSE_BLOG_PURGE_DAYS": (30, int),
}


def blog_setting(name: str) -> Any:
    """The value of a blog setting: Django settings first, then the environment, then the default."""
    default, cast = DEFAULTS[name]
    if hasattr(settings, name):
        return getattr(settings, name)
    return get_env(name, default, cast=cast)


def akismet_enabled() -> bool:
    return bool(blog_setting("SERVICEPULSE_AKISMET_KEY"))
