"""Small request helpers shared by the apps' views."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest, default: str) -> str:
    """The `next` address a form or link asked to return to, when it is on this site; else `default`.
    (A `next` pointing elsewhere would make the site an open redirect.)"""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def safe_url(url: str) -> str:
    """`url` if it is an http(s) URL, else "" (links from imports, APIs or visitors must not be javascript:)."""
    url = (url or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else ""


def csv_download(rows: Iterable[list[str]], *, filename: str) -> HttpResponse:
    """`rows` as a CSV file the browser saves as `filename`. A byte-order mark comes first: Excel reads a CSV
    without one in the machine's legacy code page, and Welsh, Arabic or Chinese text comes out garbled."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")
    csv.writer(response).writerows(rows)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
