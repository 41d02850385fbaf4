from __future__ import annotations

from datetime import date

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from servicepulse.accounts.roles import Role, role_required
from servicepulse.publish.feeds import FEED_SALT
from servicepulse.publish.models import Digest
from servicepulse.publish.networks import NETWORKS
from servicepulse.publish.selectors import digest_context, digest_latest, digest_list


def _page(request: HttpRequest, digest: Digest | None) -> HttpResponse:
    context = digest_context(digest=digest) if digest is not None else {"digest": None, "topics": []}
    token = signing.dumps(request.user.pk, salt=FEED_SALT)
    context["feed_url"] = request.build_absolute_uri(reverse("publish:digest_feed") + f"?token={token}")
    context["archive"] = digest_list()
    return render(request, "publish/digest.html", context)


@role_required(Role.VIEWER)
def digest_current(request: HttpRequest) -> HttpResponse:
    return _page(request, digest_latest())


@role_required(Role.VIEWER)
def digest_week(request: HttpRequest, week: str) -> HttpResponse:
    try:
        week_start = date.fromisoformat(week)
    except ValueError:
        raise Http404("not a date") from None
    return _page(request, get_object_or_404(Digest, week_start=week_start))


# -- cross-posting -------------------------------------------------------------------------------------------


@role_required(Role.RESPONDER)
def crosspost_post(request: HttpRequest, slug: str) -> HttpResponse:
    """Preview and send a post's copies: per-network text with a live length count, states, errors,
    retries; the replies that came back and the blog replies that can be posted back."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from servicepulse.blog.models import Comment, Post
    from servicepulse.publish import backfeed, crosspost
    from servicepulse.publish.models import CrossPost
    from servicepulse.publish.selectors import crosspost_page

    post = get_object_or_404(Post, slug=slug)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "draft":
                made = crosspost.crossposts_draft(post=post)
                messages.info(request, f"{len(made)} new draft(s).")
            elif action == "postback":
                comment = get_object_or_404(Comment, pk=request.POST.get("comment"), post=post)
                backfeed.postback_request(comment=comment)
                messages.info(request, "The reply is on its way.")
            else:
                copy = get_object_or_404(CrossPost, pk=request.POST.get("crosspost"), post=post)
                text = request.POST.get("text")
                if (
                    text is not None
                    and text.strip() != copy.text
                    and copy.state in ("draft", "scheduled", "failed")
                ):
                    crosspost.crosspost_edit_text(crosspost=copy, text=text)
                if action == "send":
                    crosspost.crosspost_schedule(crosspost=copy)
                    messages.info(request, f"Sending to {NETWORKS[copy.network].label}…")
                elif action == "schedule":
                    at = parse_datetime(request.POST.get("send_at", ""))
                    if at is None:
                        raise ValueError("give a date and time to send at")
                    if timezone.is_naive(at):
                        at = timezone.make_aware(at)
                    crosspost.crosspost_schedule(crosspost=copy, at=at)
                    messages.info(request, f"Scheduled for {at:%d %b %H:%M}.")
                elif action == "retry":
                    crosspost.crosspost_retry(crosspost=copy)
                    messages.info(request, "Trying again.")
                elif action == "discard":
                    crosspost.crosspost_transition(crosspost=copy, to="deleted")
                elif action == "save":
                    messages.info(request, "Saved.")
        except (ValueError, crosspost.InvalidTransition) as exc:
            messages.error(request, str(exc))
        return redirect("publish:crosspost_post", slug=post.slug)
    return render(request, "publish/crosspost_post.html", crosspost_page(post=post))


@role_required(Role.ADMIN)
def crosspost_accounts(request: HttpRequest) -> HttpResponse:
    """Which connected accounts posts are cross-posted to, and whether they are sent at once or reviewed."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from servicepulse.publish import crosspost
    from servicepulse.publish.selectors import crosspost_accounts_page
    from servicepulse.sources.models import Source

    if request.method == "POST":
        network = request.POST.get("network", "")
        source_id = request.POST.get("source") or None
        source = get_object_or_404(Source, pk=source_id) if source_id else None
        options = {"subreddit": request.POST["subreddit"].strip()} if request.POST.get("subreddit") else None
        try:
            crosspost.target_set(
                network=network, source=source, enabled=request.POST.get("enabled") == "on",
                mode=request.POST.get("mode", "review"), options=options,
            )  # fmt: skip
            messages.info(request, "Saved.")
        except ValueError as exc:
            messages.error(request, str(exc))
        return redirect("publish:crosspost_accounts")
    return render(request, "publish/crosspost_accounts.html", crosspost_accounts_page())
