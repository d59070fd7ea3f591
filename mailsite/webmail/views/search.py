"""The search page: the box's query (search_query), its results 50 a page (search), in the lists' row markup."""
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from mailsite.webmail import search, search_query
from mailsite.webmail.views.mail import folders_context


@require_GET
def search_results(request):
    query = search_query.parse(request.GET.get("q", ""), max_chars=settings.SEARCH_MAX_QUERY_CHARS,
                               max_terms=settings.SEARCH_MAX_TERMS)
    if query.error:
        query.error = gettext(query.error_message) % query.error_values
    sort = request.GET.get("sort", "date")
    page = None
    if not query.error and not query.empty:
        page = search.search_page(user=request.user, query=query, sort=sort, cursor=request.GET.get("after"))
    return render(request, "webmail/search.html", {
        "search": query, "page": page, "sort": page.sort if page else sort, **folders_context(request, box="search"),
    })
