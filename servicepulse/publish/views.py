from __future__ import annotations

from datetime import date
from typing import cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from servicepulse.accounts.roles import Role, role_required
from servicepulse.core.forms import tell_time_notes
from servicepulse.core.times import local_time_text
from servicepulse.publish.models import Digest
from servicepulse.publish.networks import NETWORKS
from servicepulse.publish.selectors import digest_context, digest_feed_token, digest_latest, digest_list
from servicepulse.publish.services import digest_feed_renew


def _page(request: HttpRequest, digest: Digest | None) -> HttpResponse:
    context = digest_context(digest=digest) if digest is not None else {"digest": None, "topics": []}
    token = digest_feed_token(user_id=cast(int, request.user.pk))
    context["feed_url"] = request.build_absolute_uri(reverse("publish:digest_feed") + f"?token={token}")
    context["archive"] = digest_list()
    return render(request, "publish/digest.html", context)


@role_required(Role.VIEWER)
def digest_current(request: HttpRequest) -> HttpResponse:
    return _page(request, digest_latest())


@role_required(Role.VIEWER)
@require_POST
def digest_feed_new(request: HttpRequest) -> HttpResponse:
    """A new private feed link for the person asking; their earlier links stop working."""
    digest_feed_renew(user_id=cast(int, request.user.pk))  # signed in: role_required
    messages.success(
        request,
        "Your digest feed has a new link: give it to your feed reader. The earlier links no longer work.",
    )
    return redirect("publish:digest")


@role_required(Role.VIEWER)
def digest_week(request: HttpRequest, week: str) -> HttpResponse:
    try:
        week_start = date.fromisoformat(week)
    except ValueError:
        raise Http404("not a date") from None
    return _page(request, get_object_or_404(Digest, week_start=week_start))


# -- cross-posting -------------------------------------------------------------------------------------------


POST_PAGE = "publish/crosspost_post.html"


@role_required(Role.RESPONDER)
def crosspost_post(request: HttpRequest, slug: str) -> HttpResponse:
    """Preview and send a post's copies: per-network text with a live length count, states, errors,
    retries; the replies that came back and the blog replies that can be posted back."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from servicepulse.blog.models import Comment, Post
    from servicepulse.publish import backfeed, crosspost
    from servicepulse.publish.forms import CrossPostActionForm, errors_text
    from servicepulse.publish.models import CrossPost
    from servicepulse.publish.selectors import crosspost_page

    post = get_object_or_404(Post, slug=slug)
    if request.method != "POST":
        return render(request, POST_PAGE, crosspost_page(post=post))
    form = CrossPostActionForm(request.POST)
    if not form.is_valid():  # a tampered or hand-made form: nothing is looked up
        messages.error(request, f"Nothing done: {errors_text(form)}")
        return render(request, POST_PAGE, crosspost_page(post=post), status=400)
    data = form.cleaned_data
    action = data["action"]
    try:
        if action == "draft":
            made = crosspost.crossposts_draft(post=post)
            messages.info(request, f"{len(made)} new draft(s).")
        elif action == "postback":
            comment = get_object_or_404(Comment, pk=data["comment"], post=post)
            backfeed.postback_request(comment=comment)
            messages.info(request, "The reply is on its way.")
        else:
            copy = get_object_or_404(CrossPost, pk=data["crosspost"], post=post)
            text = data["text"]
            # A changed text is saved first; on a copy sent since the page was opened that is refused (the
            # reason is shown) rather than dropped with "Saved.".
            if text is not None and crosspost.copy_text(text) != copy.text:
                try:
                    crosspost.crosspost_edit_text(crosspost=copy, text=text)
                except crosspost.CrossPostTextError as exc:  # shown beside the text, kept as typed
                    context = crosspost_page(
                        post=post, refused_text={copy.pk: (text, str(exc))},
                        typed_send_at={copy.pk: request.POST.get("send_at", "")},
                    )  # fmt: skip
                    return render(request, POST_PAGE, context, status=400)
            if action == "send":
                crosspost.crosspost_schedule(crosspost=copy)
                messages.info(request, f"Sending to {NETWORKS[copy.network].label}…")
            elif action == "schedule":
                at = data["send_at"]  # read in the current time zone when it has no offset
                if at is None:
                    raise ValueError("give a date and time to send at")
                crosspost.crosspost_schedule(crosspost=copy, at=at)
                messages.info(request, f"Scheduled for {local_time_text(at)}.")
                tell_time_notes(request, form)  # a time the clocks repeat: which of the two was taken
            elif action == "retry":
                crosspost.crosspost_retry(crosspost=copy)
                messages.info(request, "Trying again.")
            elif action == "discard":
                crosspost.crosspost_discard(crosspost=copy)
            elif action == "save":
                messages.info(request, "Saved.")
    except (ValueError, crosspost.InvalidTransition) as exc:
        messages.error(request, str(exc))
    return redirect("publish:crosspost_post", slug=post.slug)


@role_required(Role.ADMIN)
def crosspost_accounts(request: HttpRequest) -> HttpResponse:
    """Which connected accounts posts are cross-posted to, and whether they are sent at once or reviewed."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from servicepulse.publish import crosspost
    from servicepulse.publish.forms import CrossPostTargetForm, errors_text
    from servicepulse.publish.selectors import crosspost_accounts_page

    if request.method != "POST":
        return render(request, "publish/crosspost_accounts.html", crosspost_accounts_page())
    form = CrossPostTargetForm(request.POST)
    if form.is_valid():
        try:
            crosspost.target_set(
                network=form.cleaned_data["network"], source=form.cleaned_data["source"],
                enabled=form.cleaned_data["enabled"], mode=form.cleaned_data["mode"],
                options=form.target_options(),
            )  # fmt: skip
        except crosspost.TargetError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.info(request, "Saved.")
            return redirect("publish:crosspost_accounts")
    context = crosspost_accounts_page(form=form)
    if not context["form_row"]:  # the account itself is wrong (a tampered form): no row to show it on
        messages.error(request, f"Not saved: {errors_text(form)}")
    return render(request, "publish/crosspost_accounts.html", context, status=400)
