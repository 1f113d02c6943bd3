"""Every word a person reads, in Simplified Chinese and English, from one catalog.

Code never holds a sentence: it names a message and its figures with ``t(key, **params)``
and gets a ``Text``. The edge says it in the caller's language: API answers render each
``Text`` while they are encoded (``language.py`` negotiates ``Accept-Language`` per request),
pages render it in their templates. The messages live in ``catalog/*.toml``, both languages
side by side; ``catalog.py`` refuses a message that lacks one of them or whose two versions
name different figures.
"""

from respite.i18n.catalog import CATALOG, Message
from respite.i18n.formats import money
from respite.i18n.language import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Lang,
    LanguageMiddleware,
    current_language,
    negotiate,
    speaking,
)
from respite.i18n.text import InvalidField, Text, render, t

__all__ = [
    "CATALOG",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "InvalidField",
    "Lang",
    "LanguageMiddleware",
    "Message",
    "Text",
    "current_language",
    "money",
    "negotiate",
    "render",
    "speaking",
    "t",
]
