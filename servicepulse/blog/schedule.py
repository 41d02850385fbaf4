"""Periodic blog jobs: publish scheduled posts when their time comes."""

from servicepulse.blog.tasks import publish_due_posts
from servicepulse.core.scheduler import Periodic

SCHEDULE = [Periodic(name="blog.publish_due_posts", task=publish_due_posts, seconds=60)]
