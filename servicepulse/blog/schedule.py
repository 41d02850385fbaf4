"""Periodic blog jobs: publish scheduled posts when their time comes; forget old commenters' addresses; delete
old spam, trash, Webmention log and unconfirmed reply subscriptions."""

from servicepulse.blog.tasks import forget_addresses, publish_due_posts, purge_old
from servicepulse.core.scheduler import Periodic

SCHEDULE = [
    Periodic(name="blog.publish_due_posts", task=publish_due_posts, seconds=60),
    Periodic(name="blog.forget_addresses", task=forget_addresses, cron={"hour": 3, "minute": 40}),
    Periodic(name="blog.purge_old", task=purge_old, cron={"hour": 3, "minute": 50}),
]
