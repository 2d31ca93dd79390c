"""The search page: ``newssearch serve``, a local read-only web view of one index.

Needs the optional extra ``newssearch[serve]`` (Starlette, uvicorn, Jinja2); only this
package imports them, so ``import newssearch`` never does.

>>> from newssearch.serve import make_app        # doctest: +SKIP
>>> app = make_app("indexes/default")            # a Starlette app; serve() runs it with uvicorn
"""
from __future__ import annotations

from .app import CONTENT_SECURITY_POLICY, SECURITY_HEADERS, is_loopback, make_app, serve

__all__ = ["make_app", "serve", "is_loopback", "CONTENT_SECURITY_POLICY", "SECURITY_HEADERS"]
