"""Blog pages and linkback endpoints. Thin: forms and services do the work."""

from __future__ import annotations

import json
from datetime import MAXYEAR, MINYEAR, date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from servicepulse.accounts.roles import Role, has_role, role_required
from servicepulse.blog import selectors, services
from servicepulse.blog.conf import akismet_enabled, blog_setting
from servicepulse.blog.feeds import comments_feed, posts_feed
from servicepulse.blog.forms import (
    CommentEditForm,
    CommentForm,
    PostForm,
    WordListForm,
    comment_id_or_none,
    elapsed_since,
)
from servicepulse.blog.linkbacks import pingback, trackback, webmention
from servicepulse.blog.models import (
    Comment,
    CommentStatus,
    Decision,
    Post,
    PostStatus,
    WordListEntry,
    WordListKind,
)
from servicepulse.core.forms import tell_time_notes
from servicepulse.core.ratelimit import client_address

COOKIE = "servicepulse_commenter"
COOKIE_SALT = "servicepulse.blog.commenter"
SESSION_KEY = "blog_own_comments"
XMLRPC_MAX_BYTES = 64 * 1024


def _client_ip(request: HttpRequest) -> str | None:
    """The commenter's address as every other rate limit reads it: behind a trusted proxy
    (SERVICEPULSE_TRUSTED_PROXIES), the client it forwarded for; else every reader shared the proxy's budget."""
    address = client_address(request)
    return None if address == "unknown" else address


def _own_ids(request: HttpRequest) -> list[int]:
    return [int(i) for i in request.session.get(SESSION_KEY, [])]


def _paginate(request: HttpRequest, qs: Any, per_page: int = 10) -> Any:
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def _roles(request: HttpRequest) -> dict[str, bool]:
    return {
        "perms_admin": has_role(request.user, Role.ADMIN),
        "perms_responder": has_role(request.user, Role.RESPONDER),
    }


def index(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    page = _paginate(request, selectors.posts_published(query=query or None))
    context = {"page": page, "query": query, "months": selectors.archive_months()[:12], "heading": "Blog"}
    return render(request, "blog/index.html", {**context, **_roles(request)})


def tag(request: HttpRequest, slug: str) -> HttpResponse:
    named = selectors.tag_published_get(slug=slug)
    if named is None:
        raise Http404("No such tag")
    page = _paginate(request, selectors.posts_published(tag=slug))
    # A Chinese tag's slug is a digest: the heading says its name.
    context = {"page": page, "heading": f"Posts tagged “{named.name}”", "query": ""}
    return render(request, "blog/index.html", {**context, **_roles(request)})


def archive(request: HttpRequest) -> HttpResponse:
    return render(request, "blog/archive.html", {"months": selectors.archive_months()})


def _month_or_404(year: int, month: int) -> date:
    # The calendar's first and last years are refused too: their bounds overflow once shifted to UTC.
    if not (MINYEAR < year < MAXYEAR and 1 <= month <= 12):
        raise Http404("No such month")
    return date(year, month, 1)


def archive_month(request: HttpRequest, year: int, month: int) -> HttpResponse:
    first_day = _month_or_404(year, month)
    page = _paginate(request, selectors.posts_published(year=year, month=month))
    heading = f"Posts from {first_day.strftime('%B %Y')}"
    return render(
        request, "blog/index.html", {"page": page, "heading": heading, "query": "", **_roles(request)}
    )


def _discovery_headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    endpoint = selectors.site_url(reverse("blog:webmention"))
    response["Link"] = f'<{endpoint}>; rel="webmention"'
    response["X-Pingback"] = selectors.site_url("/xmlrpc/")
    return response


def _commenter_cookie(request: HttpRequest) -> dict[str, str]:
    try:
        raw = request.get_signed_cookie(COOKIE, salt=COOKIE_SALT, default=None)
        return json.loads(raw) if raw else {}
    except (ValueError, TypeError):
        return {}


def _post_or_404(request: HttpRequest, slug: str) -> Post:
    post = selectors.post_published_get(slug=slug)
    if post is None:
        # Writers may preview their own unpublished posts.
        if has_role(request.user, Role.ADMIN):
            post = Post.objects.filter(slug=slug).first()
        if post is None:
            raise Http404("No such post")
    return post


def _reply_to(request: HttpRequest, post: Post, form: CommentForm) -> Comment | None:
    """The comment the reader is answering: from the reply link, or from the form when it comes back with
    an error, so the page still says so (and the reply still goes under it) after the reader corrects it."""
    raw = request.GET.get("replytocom") or (form.data.get("parent") if form.is_bound else None)
    pk = comment_id_or_none(raw)
    return selectors.comment_reply_target(post=post, comment_id=pk) if pk is not None else None


def post_detail(request: HttpRequest, slug: str) -> HttpResponse:
    post = _post_or_404(request, slug)
    signed_in = request.user.is_authenticated
    form: CommentForm
    refused: services.CommentRejected | None = None
    if request.method == "POST":
        form = CommentForm(request.POST, signed_in=signed_in)
        try:
            response = _comment_post(request, post, form)
        except services.CommentRejected as exc:
            # Shown above the form, which comes back bound: what the reader typed is not lost.
            form.add_error(None, str(exc))
            refused = exc
        else:
            if response is not None:
                return response
    else:
        remembered = _commenter_cookie(request)
        form = CommentForm(
            signed_in=signed_in,
            initial={
                "author_name": remembered.get("name", ""),
                "author_email": remembered.get("email", ""),
                "author_url": remembered.get("url", ""),
                "remember": bool(remembered),
            },
        )
    own = set(_own_ids(request))
    tree = selectors.comment_tree(post=post, include_ids=own)
    editable = {
        node.comment.pk
        for node in selectors.comment_nodes(tree)
        if services.comment_editable(comment=node.comment, user=request.user, own_ids=own)
    }
    context = {
        "post": post,
        "tree": tree,
        "linkbacks": selectors.linkbacks_approved(post=post),
        "form": form,
        "comments_open": services.comments_open(post=post),
        "max_depth": int(blog_setting("SERVICEPULSE_BLOG_THREAD_DEPTH")),
        "own_ids": own,
        "editable_ids": editable,
        "akismet": akismet_enabled(),
        "post_url": selectors.site_url(post.get_absolute_url()),
        "edit_minutes": int(blog_setting("SERVICEPULSE_BLOG_EDIT_MINUTES")),
        "is_admin": has_role(request.user, Role.ADMIN),
        "reply_to": _reply_to(request, post, form),
    }
    status = 200
    if request.method == "POST":
        # Over the rate limit is "Too Many Requests", with when to come back; every other refusal (closed,
        # honeypot, too fast, a form to correct) is the request's own fault.
        status = 429 if refused is not None and refused.retry_after is not None else 400
    response = render(request, "blog/post_detail.html", context, status=status)
    if status == 429 and refused is not None:
        response["Retry-After"] = str(refused.retry_after)
    return _discovery_headers(request, response)


def _comment_post(request: HttpRequest, post: Post, form: CommentForm) -> HttpResponse | None:
    """The redirect to the stored comment; None when the form has errors to show. Raises CommentRejected
    when the comment is refused (nothing stored)."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    parent = None
    if data.get("parent"):
        parent = Comment.objects.filter(pk=data["parent"], post=post, status=CommentStatus.APPROVED).first()
    comment = services.comment_submit(
        post=post,
        body=data["body"],
        author_name=data.get("author_name", ""),
        author_email=data.get("author_email", ""),
        author_url=data.get("author_url", ""),
        user=request.user,
        parent=parent,
        ip_address=_client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:500],
        notify_replies=bool(data.get("notify_replies")),
        honeypot=data.get("website_confirm", ""),
        elapsed_seconds=elapsed_since(data.get("ts", "")) or 0.0,
    )
    own = [pk for pk in _own_ids(request) if pk != comment.pk]  # a form sent twice gives the same comment
    request.session[SESSION_KEY] = [*own[-49:], comment.pk]
    if comment.status == CommentStatus.APPROVED:
        messages.success(request, "Thank you: your comment is published.")
    elif comment.status == CommentStatus.PENDING:
        messages.info(request, "Thank you: your comment is awaiting moderation.")
    else:
        messages.info(request, "Thank you: your comment is awaiting moderation.")  # never tell a spammer
    response = HttpResponseRedirect(f"{post.get_absolute_url()}#comment-{comment.pk}")
    if not request.user.is_authenticated:
        if data.get("remember"):
            value = json.dumps(
                {"name": comment.author_name, "email": comment.author_email, "url": comment.author_url}
            )
            response.set_signed_cookie(
                COOKIE,
                value,
                salt=COOKIE_SALT,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        else:
            response.delete_cookie(COOKIE)
    return response


def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment.objects.select_related("post"), pk=pk)
    own = _own_ids(request)
    if not services.comment_editable(comment=comment, user=request.user, own_ids=own):
        messages.error(request, "This comment can no longer be edited.")
        return HttpResponseRedirect(comment.post.get_absolute_url())
    form = CommentEditForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_edit(
                comment=comment, body=form.cleaned_data["body"], user=request.user, own_ids=own
            )
        except services.CommentRejected as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Your comment is updated.")
            return HttpResponseRedirect(comment.get_absolute_url())
    return render(request, "blog/comment_edit.html", {"form": form, "comment": comment})


def feed(request: HttpRequest) -> HttpResponse:
    return posts_feed(request, posts=list(selectors.posts_published()[:20]))


def rss(request: HttpRequest) -> HttpResponse:
    return posts_feed(request, posts=list(selectors.posts_published()[:20]), rss=True)


def post_comments_feed(request: HttpRequest, slug: str) -> HttpResponse:
    post = selectors.post_published_get(slug=slug)
    if post is None:
        raise Http404
    comments = list(selectors.comments_approved(post=post).order_by("-created_at")[:50])
    return comments_feed(request, post=post, comments=comments)


# ---------------------------------------------------------------------------------------- linkback endpoints


@csrf_exempt
def webmention_endpoint(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = HttpResponse(
            "This is a Webmention endpoint: POST source and target (form-encoded).",
            content_type="text/plain",
            status=405,
        )
        response["Allow"] = "POST"
        return response
    try:
        received, _post = webmention.webmention_accept(
            source=request.POST.get("source", ""),
            target=request.POST.get("target", ""),
            request_host=request.get_host(),
            ip_address=_client_ip(request),
        )
    except webmention.WebmentionInvalid as exc:
        return HttpResponse(f"{exc}\n", content_type="text/plain", status=400)
    except webmention.WebmentionRateLimited as exc:
        return HttpResponse(f"{exc}\n", content_type="text/plain", status=429)
    return HttpResponse(
        f"Accepted: the mention will be verified (request {received.pk}).\n",
        content_type="text/plain",
        status=202,
    )


@csrf_exempt
def trackback_endpoint(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        body = trackback.trackback_response("Trackbacks must be sent with POST.")
        return HttpResponse(body, content_type="text/xml; charset=utf-8")
    post = selectors.post_published_get(slug=slug)
    error = trackback.trackback_receive(
        post=post,
        url=request.POST.get("url", ""),
        title=request.POST.get("title", ""),
        excerpt=request.POST.get("excerpt", ""),
        blog_name=request.POST.get("blog_name", ""),
        ip_address=_client_ip(request),
    )
    return HttpResponse(trackback.trackback_response(error), content_type="text/xml; charset=utf-8")


@csrf_exempt
def xmlrpc(request: HttpRequest) -> HttpResponse:
    """The XML-RPC server at /xmlrpc/ (Pingback 1.0)."""
    if request.method != "POST":
        response = HttpResponse(
            "XML-RPC server accepts POST requests only.\n", content_type="text/plain", status=405
        )
        response["Allow"] = "POST"
        return response
    if len(request.body) > XMLRPC_MAX_BYTES:
        return HttpResponse("Request too large.\n", content_type="text/plain", status=413)
    rpc = pingback.dispatcher(request_host=request.get_host(), ip_address=_client_ip(request))
    with transaction.atomic():
        answer = rpc._marshaled_dispatch(request.body)  # the stdlib dispatcher's documented server hook
    return HttpResponse(answer, content_type="text/xml; charset=utf-8")


# ------------------------------------------------------------------------------------------ writing (admin)


@role_required(Role.ADMIN)
def drafts(request: HttpRequest) -> HttpResponse:
    # A "You said, we did" draft a week, and others: paged, most recently changed first.
    return render(
        request, "blog/drafts.html", {"page": _paginate(request, selectors.posts_unpublished(), per_page=25)}
    )


def _save_post_from_form(request: HttpRequest, form: PostForm, post: Post | None) -> Post:
    data = form.cleaned_data
    with transaction.atomic():
        if post is None:
            post = services.post_create(
                title=data["title"],
                body_markdown=data["body_markdown"],
                author=request.user,  # type: ignore[arg-type]
                tags=form.tag_names(),
                excerpt=data["excerpt"],
                comments_enabled=data["comments_enabled"],
                close_comments_after_days=data["close_comments_after_days"],
            )
        else:
            services.post_update(
                post=post,
                title=data["title"],
                body_markdown=data["body_markdown"],
                tags=form.tag_names(),
                excerpt=data["excerpt"],
                comments_enabled=data["comments_enabled"],
                close_comments_after_days=data["close_comments_after_days"],
            )
        action = data["action"]
        if action == "publish":
            services.post_publish(post=post)
        elif action == "schedule":
            services.post_publish(post=post, at=data["publish_at"])
        elif post.status != PostStatus.DRAFT:
            services.post_unpublish(post=post)
    return post


def _saved_messages(request: HttpRequest, form: PostForm, post: Post) -> None:
    messages.success(request, f"Saved “{post.title}” ({post.get_status_display().lower()}).")
    if form.cleaned_data["action"] == "schedule":  # the time is used only to schedule
        tell_time_notes(request, form)  # a time the clocks repeat: which of the two was taken


@role_required(Role.ADMIN)
def post_new(request: HttpRequest) -> HttpResponse:
    form = PostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        post = _save_post_from_form(request, form, None)
        _saved_messages(request, form, post)
        return HttpResponseRedirect(reverse("blog:post_edit", kwargs={"slug": post.slug}))
    return render(request, "blog/post_form.html", {"form": form, "post": None})


@role_required(Role.ADMIN)
def post_edit(request: HttpRequest, slug: str) -> HttpResponse:
    post = get_object_or_404(Post, slug=slug)
    form = PostForm(request.POST or None, initial=PostForm.initial_for(post))
    if request.method == "POST" and form.is_valid():
        post = _save_post_from_form(request, form, post)
        _saved_messages(request, form, post)
        return HttpResponseRedirect(reverse("blog:post_edit", kwargs={"slug": post.slug}))
    return render(request, "blog/post_form.html", {"form": form, "post": post})


# ------------------------------------------------------------------------------------------ moderation


@role_required(Role.RESPONDER)
def moderation(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", CommentStatus.PENDING)
    if status not in CommentStatus.values:
        status = CommentStatus.PENDING
    page = _paginate(request, selectors.moderation_queue(status=status), per_page=50)
    return render(
        request,
        "blog/moderation.html",
        {
            "page": page,
            "status": status,
            "queues": selectors.moderation_queues(),
            "decisions": Decision.choices,
            "is_admin": has_role(request.user, Role.ADMIN),  # the word lists are the admins' to change
        },
    )


@require_POST
@role_required(Role.RESPONDER)
def moderation_apply(request: HttpRequest) -> HttpResponse:
    decision = request.POST.get("decision", "")
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdecimal()]
    status = request.POST.get("status", CommentStatus.PENDING)
    if decision not in Decision.values or not ids:
        messages.error(request, "Choose comments and an action.")
    else:
        changed = services.comments_moderate(comment_ids=ids, decision=decision, moderator=request.user)  # type: ignore[arg-type]
        messages.success(request, f"{changed} item(s) marked {Decision(decision).label.lower()}.")
    return HttpResponseRedirect(f"{reverse('blog:moderation')}?status={status}")


@role_required(Role.ADMIN)
def word_lists(request: HttpRequest) -> HttpResponse:
    def current(kind: WordListKind) -> str:
        return "\n".join(
            WordListEntry.objects.filter(kind=kind).order_by("term").values_list("term", flat=True)
        )

    form = WordListForm(
        request.POST or None,
        initial={
            "moderation": current(WordListKind.MODERATION),
            "blocklist": current(WordListKind.BLOCKLIST),
        },
    )
    if request.method == "POST" and form.is_valid():
        services.word_list_set(
            kind=WordListKind.MODERATION, terms=form.cleaned_data["moderation"].splitlines()
        )
        services.word_list_set(kind=WordListKind.BLOCKLIST, terms=form.cleaned_data["blocklist"].splitlines())
        messages.success(request, "Word lists saved.")
        return HttpResponseRedirect(reverse("blog:word_lists"))
    return render(request, "blog/word_lists.html", {"form": form})


# ------------------------------------------------------------------------------------------ subscriptions


def subscription_confirm(request: HttpRequest, token: str) -> HttpResponse:
    # GET shows a button; only the POST confirms, so mail scanners that open links confirm nothing.
    if request.method == "POST":
        subscription = services.subscription_confirm(token=token)
        if subscription is None:
            raise Http404
        return render(request, "blog/subscription.html", {"subscription": subscription, "done": "confirmed"})
    subscription = get_object_or_404(services.ReplySubscription, token=token)
    return render(request, "blog/subscription.html", {"subscription": subscription, "ask": "confirm"})


@csrf_exempt  # RFC 8058 one-click unsubscribe posts without a CSRF token; the URL's token is the secret
def subscription_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        subscription = services.subscription_unsubscribe(token=token)
        if subscription is None:
            raise Http404
        return render(
            request, "blog/subscription.html", {"subscription": subscription, "done": "unsubscribed"}
        )
    subscription = get_object_or_404(services.ReplySubscription, token=token)
    return render(request, "blog/subscription.html", {"subscription": subscription, "ask": "unsubscribe"})
