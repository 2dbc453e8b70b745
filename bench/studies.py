"""After the load: read latency by database size, query plans, the profile, and the widget."""
from __future__ import annotations

import statistics
from urllib.parse import urlencode

from flask import Flask

from . import browser, profiling, queries
from .databases import Manifest, set_origins
from .load import measure
from .rounds import GUNICORN, ROOT, Rounds


class Studies(Rounds):
    """The measurements that need no reference server."""

    def size_latency(self, small_url: str) -> None:
        """The 200-comment read, one connection at a time, on the small and the big database."""
        if not self.time_left("thread read latency on the small and the big database"):
            return
        small_env = {**self.env, "DATABASE_URL": small_url}
        small = self.fleet.start("ours-small", GUNICORN, "wsgi:app", 1, small_env, ROOT)
        big = self.start_ours(1)
        try:
            p50: dict[str, list[float]] = {"small": [], "big": []}
            for _ in range(2):
                for name, server in (("small", small), ("big", big)):
                    self.check_thread(server, self.thread200, 200)()
                    result = measure("ours", f"thread-200 on {name}", 1, server.url,
                                     self.thread200, self.args.duration / 2, self.args.warmup, 1)
                    p50[name].append(result.p50_ms)
            self.run.size_latency = {
                "small": (self.run.small.comments if self.run.small else 0,
                          statistics.median(p50["small"])),
                "big": (self.m.comments, statistics.median(p50["big"]))}
        finally:
            self.fleet.stop(small)
            self.fleet.stop(big)

    def _app(self, url: str) -> Flask:
        settings = {"SECRET_KEY": self.env["COMMENTS_SECRET_KEY"], "RATELIMIT_ENABLED": False,
                    "SPAM_ENABLED": True}
        return queries.make_app(url, settings)

    def explain(self, url: str, manifest: Manifest | None = None) -> None:
        """The plans of every SELECT of the thread reads, the counts and the moderation queue."""
        m = manifest or self.m
        app = self._app(url)
        plans = []
        counts = "/api/v1/counts?" + urlencode([("site", m.site)]
                                               + [("article", a) for a in m.front_page])
        for name, path in (("thread-200", self.thread200.path),
                           ("thread-1000 first page", self.thread1000.path),
                           ("counts of 20", counts)):
            plans.append((name, queries.explain(app, queries.selects(app, path, self.headers))))
        moderator = app.test_client()
        profiling.login(moderator, m.moderator, m.password)
        statements = queries.selects(app, "/mod/queue", {}, moderator)
        plans.append(("moderation queue", queries.explain(app, statements)))
        self.run.explains.append((f"{m.backend}, {m.comments:,} comments", plans))

    def profile(self, url: str) -> None:
        """pyinstrument over each request kind, in this process."""
        app = self._app(url)
        client = app.test_client()
        token = client.get(self.thread1000.path, headers=self.headers).get_json()["form_token"]
        post = {"site": self.m.site, "article": self.m.front_page[1], "form_token": token,
                "author": {"name": "Profiler", "email": "profiler@mail.example"},
                "text": "A *profiled* comment with a [link](https://news.example/1)."}
        paths = {"thread-200": self.thread200.path, "thread-1000 first page": self.thread1000.path,
                 "counts of 20": self.counts.path}
        self.run.profiles = profiling.all_profiles(app, paths, self.m.origin, post,
                                                   (self.m.moderator, self.m.password),
                                                   self.args.profile_requests)
        self.run.import_memory = profiling.import_memory(self.env)

    def widget(self, url: str) -> None:
        """Sizes of what the widget loads and its first render of the 200-comment thread."""
        server = self.start_ours(2)
        html = browser.PAGE.format(site=self.m.site, article=self.m.hot["hot200"], base=server.url)
        try:
            with browser.host_page(html) as page_origin:
                set_origins(url, self.m.site, [self.m.origin, page_origin])
                try:
                    render = browser.first_render(server.url, page_origin, self.m.hot["hot200"],
                                                  self.args.renders)
                finally:
                    set_origins(url, self.m.site, [self.m.origin])
            self.run.render = render
            self.run.sizes = browser.sizes(server.url, render.loaded)
        finally:
            self.fleet.stop(server)
