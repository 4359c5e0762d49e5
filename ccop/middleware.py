"""The language a logged-in person chose is used on any browser they log in from; requests with
NUL characters are refused before any view runs."""

from __future__ import annotations

import logging

from django.conf import settings
from django.shortcuts import render
from django.utils import translation

security_logger = logging.getLogger("django.security.NullCharacter")


def _preferred_language(request) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    code = user.preferred_language
    # LANGUAGE_CODE is also the field's default, given to everyone who never chose: it cannot
    # be told from a choice, so the browser's own language (Accept-Language) decides instead.
    if code == settings.LANGUAGE_CODE:
        return None
    if code in dict(settings.LANGUAGES) and translation.check_for_language(code):
        return code
    return None


class UserLanguageMiddleware:
    """After AuthenticationMiddleware. When the browser has no language cookie yet (a new phone,
    a shared computer, just logged in), a logged-in person gets the language recorded on their
    account (User.preferred_language, set by the language switcher) and the cookie is set, so
    LocaleMiddleware finds it on the next request. A cookie already there (the switcher used in
    this browser) always wins. An account left at the default language (English) does not
    override the browser's language: a Khmer phone shows Khmer to someone who never chose."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        has_cookie = settings.LANGUAGE_COOKIE_NAME in request.COOKIES
        if not has_cookie and (language := _preferred_language(request)):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        # The login view logs the person in during the request: look again after it.
        if (
            not has_cookie
            and settings.LANGUAGE_COOKIE_NAME not in response.cookies
            and (language := _preferred_language(request))
        ):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


class RejectNullCharactersMiddleware:
    """A NUL character (U+0000) in a query string or a posted form is refused with the portal's
    "request not understood" page (400) before any view runs. No person types one; PostgreSQL
    cannot store one in text (the query fails), and Django's form fields refuse it, but raw
    parameters (a search term, a comment read from the POST) would reach the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_null_character(request.GET) or (
            request.method == "POST" and _has_null_character(request.POST)
        ):
            security_logger.warning("Refused a request with a NUL character: %s", request.path)
            return render(request, "400.html", status=400)
        return self.get_response(request)


def _has_null_character(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())
