"""Periodic blog jobs: publish scheduled posts when their time comes; forget old commenters' addresses."""

from servicepulse.blog.tasks import forget_addresses, publish_due_posts
from servicepulse.core.scheduler import Periodic

SCHEDULE = [
    Periodic(name="blog.publish_due_posts", task=publish_due_posts, seconds=60),
    Periodic(name="blog.forget_addresses", task=forget_addresses, cron={"hour": 3, "minute": 40}),
]
